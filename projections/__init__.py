"""Read models: pure folds over the event log, each with a store adapter that writes its rows and
the consumer's position in one transaction (see ``projections/store.py``)."""
