// Hooks that only tests switch on, through environment variables no user sets. Kept in
// one place so the production paths stay readable.
#pragma once

namespace fsdpshard {

// FSDPSHARD_TEST_PAUSE_AFTER_PLAN=DIR: after planning succeeded on every rank, each rank
// writes its pid to DIR/planned.<rank> and waits until DIR/go or DIR/go.<rank> exists
// (at most 120 s). tests/integration/fault_test.cpp uses the pause to truncate an input
// between planning and reading, or to kill one rank while the others move bytes.
void pause_after_plan_for_tests(int rank);

}  // namespace fsdpshard
