//! Ctrl-C while ordersctl talks to AWS. The first one stops what is waiting and says what
//! state things are in (a stack operation CloudFormation has started goes on without us);
//! a second one exits at once, whatever is still waiting.

use std::future::Future;

use anyhow::{anyhow, Result};

/// Exit code of a second Ctrl-C (128 + SIGINT, as shells report it).
pub const EXIT_INTERRUPTED_TWICE: i32 = 130;

/// Run `work` on a new runtime, with the second Ctrl-C exiting at once.
pub fn block_on<F: Future>(work: F) -> Result<F::Output> {
    let rt = tokio::runtime::Runtime::new()?;
    let out = rt.block_on(async {
        tokio::spawn(async {
            let mut seen = 0;
            while tokio::signal::ctrl_c().await.is_ok() {
                seen += 1;
                if seen == 2 {
                    errln!("interrupted again; exiting now");
                    std::process::exit(EXIT_INTERRUPTED_TWICE);
                }
            }
        });
        work.await
    });
    // A prompt or a stalled call may still hold a thread; do not wait for it.
    rt.shutdown_background();
    Ok(out)
}

/// `work`, unless Ctrl-C comes first: then an error that says `state`, what is true of the
/// stacks at that point.
pub async fn unless_interrupted<T>(
    work: impl Future<Output = Result<T>>,
    state: &str,
) -> Result<T> {
    tokio::select! {
        r = work => r,
        _ = tokio::signal::ctrl_c() => Err(anyhow!("interrupted; {state}")),
    }
}
