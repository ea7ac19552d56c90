#!/usr/bin/env bash
# backends.sh - every storage backend runs every test: brings up a PostgreSQL 15 cluster
# (tests/sync/pg.sh) and a Ceph radosgw (tests/sync/radosgw.sh) on loopback, then runs
# tests/sync/backends/run.sh inside both (the conformance suite, radosgw's refusals, the serve
# CLI tests and the marker scan on PostgreSQL + S3). Started by tests/run-all.sh. Both services
# are torn down on every exit. Takes about a minute and a half, most of it radosgw's start-up.
set -u
cd "$(dirname "$0")/../.."
RGW_QUIET=${RGW_QUIET:-1} exec bash tests/sync/pg.sh bash tests/sync/radosgw.sh \
    bash tests/sync/backends/run.sh
