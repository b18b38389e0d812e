"""GENERATED ate-api stubs (see scripts/gen_proto.py); import via shared.ateapi.wire."""
