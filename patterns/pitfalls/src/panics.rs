//! A panic shown on purpose: `expect_panic` runs code that panics and returns the
//! message, with the panic hook quiet for that thread, so a demo or a test can show a panic
//! without a backtrace on the terminal.

use std::cell::Cell;
use std::sync::Once;

use patterns_core::error::panic_message;

thread_local! {
    static PANIC_EXPECTED: Cell<bool> = const { Cell::new(false) };
}

// ANCHOR: expect_panic
/// Runs `f`, which is expected to panic, and returns the panic's message; `Ok` if it did
/// not panic. The message is not printed: the panic hook stays quiet for this thread while
/// `f` runs, and prints every other panic as before.
pub fn expect_panic<R>(f: impl FnOnce() -> R) -> Result<R, String> {
    static QUIET_HOOK: Once = Once::new();
    QUIET_HOOK.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !PANIC_EXPECTED.with(Cell::get) {
                default(info);
            }
        }));
    });
    let expected_before = PANIC_EXPECTED.with(|e| e.replace(true));
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    PANIC_EXPECTED.with(|e| e.set(expected_before));
    outcome.map_err(|payload| panic_message(payload.as_ref()))
}
// ANCHOR_END: expect_panic
