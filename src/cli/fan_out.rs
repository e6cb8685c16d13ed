//! Running one operation over several stacks: dependencies first, independent stacks side by
//! side (up to `--concurrency`), dependents of a failure skipped, and Ctrl-C answered with
//! what is still running instead of a silent exit.

use std::future::Future;

use crate::deploy::{stack_status, Aws, Schedule};
use anyhow::{bail, Result};
use futures_util::stream::{FuturesUnordered, StreamExt};

/// Run `work` for each stack as `schedule` allows; `done` reports each result as it arrives.
/// Returns the stacks that failed or were skipped.
pub async fn fan_out<T, W, Fut>(
    aws: &Aws,
    mut schedule: Schedule,
    concurrency: usize,
    work: W,
    mut done: impl FnMut(&str, Result<T>),
) -> Result<Vec<String>>
where
    W: Fn(String) -> Fut,
    Fut: Future<Output = Result<T>>,
{
    let mut failed = Vec::new();
    let mut running = FuturesUnordered::new();
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    loop {
        for name in schedule.next(concurrency) {
            let fut = work(name.clone());
            running.push(async move { (name, fut.await) });
        }
        if running.is_empty() {
            break;
        }
        tokio::select! {
            Some((name, result)) = running.next() => {
                let ok = result.is_ok();
                done(&name, result);
                if !ok {
                    failed.push(name.clone());
                }
                for skipped in schedule.finish(&name, ok) {
                    errln!("{skipped}: skipped, it depends on {name}, which failed");
                    failed.push(skipped);
                }
            }
            _ = &mut ctrl_c => {
                drop(running);
                interrupted(aws, &schedule.running()).await;
                bail!("interrupted");
            }
        }
    }
    Ok(failed)
}

/// How long to wait for each stack's status after Ctrl-C.
const STATUS_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// Say what Ctrl-C leaves behind. CloudFormation carries a started operation through to the
/// end (or rolls it back) on its own, so the stacks stay consistent; nothing is cancelled.
async fn interrupted(aws: &Aws, running: &[String]) {
    errln!("interrupted; nothing more will start");
    for name in running {
        // The endpoint may be what stalled: ask briefly, and say so if it does not answer.
        let status = tokio::time::timeout(STATUS_WAIT, stack_status(aws, name))
            .await
            .unwrap_or_else(|_| {
                Err(crate::deploy::DeployError::Unreachable(format!(
                    "no answer within {} s",
                    STATUS_WAIT.as_secs()
                )))
            });
        match status {
            Ok(Some(s)) if s.in_progress() => errln!(
                "{name}: still {s}; CloudFormation finishes it or rolls it back on its own; run the same command again to follow it"
            ),
            Ok(Some(s)) if s.0 == "REVIEW_IN_PROGRESS" => errln!(
                "{name}: a change set was created and not executed; the stack is unchanged"
            ),
            Ok(Some(s)) => errln!("{name}: {s}"),
            Ok(None) => errln!("{name}: not created"),
            Err(e) => errln!("{name}: status unknown ({e})"),
        }
    }
}
