# The two commands a new user needs: `make run` and `make test`. Each sets itself up.
.PHONY: run test test-fast bench

run:
	@scripts/setup-venv.sh
	.venv/bin/servicetrail demo

test:
	@scripts/test.sh

test-fast:
	@scripts/test.sh -m "not slow and not postgres"

# Every benchmark, each beside its baseline; a table on stdout and JSON in benchmarks/results/.
bench:
	@scripts/setup-venv.sh dev
	@scripts/provision-kafka.sh
	@scripts/provision-postgres.sh
	.venv/bin/python -m benchmarks
