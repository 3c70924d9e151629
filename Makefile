# The two commands a new user needs: `make run` and `make test`. Each sets itself up.
.PHONY: run test test-fast

run:
	@scripts/setup-venv.sh
	.venv/bin/servicetrail demo

test:
	@scripts/test.sh

test-fast:
	@scripts/test.sh -m "not slow and not postgres"
