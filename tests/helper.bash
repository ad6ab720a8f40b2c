# helper.bash: loaded by every bats file; puts the built programs first on PATH.
bats_require_minimum_version 1.5.0
bats_load_library bats-support
bats_load_library bats-assert

SIFT_BIN=${SIFT_BIN:-$BATS_TEST_DIRNAME/../build}
PATH=$SIFT_BIN:$PATH
# under ASan/UBSan (build-san), as make test SAN=1 sets them: a leak or an
# error report exits 86, so that a test of an error exit fails on it
export ASAN_OPTIONS=${ASAN_OPTIONS:-allocator_may_return_null=1:detect_leaks=1:exitcode=86}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:exitcode=86}
FIXTURES=$BATS_TEST_DIRNAME/fixtures
DATA=${SIFT_DATA:-$BATS_TEST_DIRNAME/../../shared/data}
MODEL=${SIFT_MODEL:-$BATS_TEST_DIRNAME/../models/all-MiniLM-L6-v2}

# skips a test that needs the real MiniLM model, with a visible notice;
# SIFT_TEST_STRICT=1 turns the skip into a failure
need_model() {
	[ -f "$MODEL/model.safetensors" ] && return 0
	[ "${SIFT_TEST_STRICT:-0}" = 1 ] && fail "model missing: $MODEL (make model)"
	skip "MiniLM model not installed (make model)"
}

need_data() {
	[ -d "$DATA" ] && return 0
	[ "${SIFT_TEST_STRICT:-0}" = 1 ] && fail "data sets missing: $DATA"
	skip "shared data sets not found at $DATA"
}
