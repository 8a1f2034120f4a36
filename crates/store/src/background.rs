//! A low-priority thread for background CPU work (compaction), so that request handling
//! wins the cores whenever both want them.

use std::sync::OnceLock;
use std::sync::mpsc;

use tokio::sync::oneshot;

type Job = Box<dyn FnOnce() + Send>;

/// Runs `f` on the background thread and waits for its result.
pub async fn run<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = oneshot::channel();
    let job: Job = Box::new(move || {
        let _ = tx.send(f());
    });
    worker().send(job).expect("the background thread runs for the life of the process");
    rx.await.expect("the background thread answers every job")
}

fn worker() -> &'static mpsc::Sender<Job> {
    static WORKER: OnceLock<mpsc::Sender<Job>> = OnceLock::new();
    WORKER.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("trailwatch-background".into())
            .spawn(move || {
                lower_priority();
                for job in rx {
                    job();
                }
            })
            .expect("spawn the background thread");
        tx
    })
}

/// Gives this thread nice 10: it still runs whenever a core is idle.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: setpriority on our own thread ID changes only this thread's scheduling.
    unsafe {
        let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
        if libc::setpriority(libc::PRIO_PROCESS, tid, 10) != 0 {
            tracing::debug!("could not lower the background thread's priority");
        }
    }
}
