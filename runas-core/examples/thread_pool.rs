//! A process that started a pool of worker threads (as an async runtime
//! does) before it drops privileges.
//!
//! ```text
//! sudo target/debug/examples/thread_pool nobody                 # refused
//! sudo target/debug/examples/thread_pool nobody --keep-keyring  # switched
//! ```
//!
//! The C library's setgroups, setresgid and setresuid change every thread
//! of the process, and the kernel clears each thread's capabilities when
//! it leaves root; but the session keyring, like the capability sets, is
//! each thread's own, and no call changes another thread's. So by default
//! (a new session keyring of the target's own) a process with threads is
//! refused, before any change, with the reason and the ways out; with
//! `--keep-keyring` (right where the session keyring is the process's own,
//! as systemd gives each service) the switch goes ahead, and `apply` reads
//! every thread back from /proc/self/task before it returns. Each worker
//! then reports what its own thread holds, and after that every line of
//! standard input is a job for the pool, answered with the worker's thread
//! id and uid, until the input ends.
//!
//! Better still: drop before starting the runtime (bind, drop, then build
//! it), as bind_then_drop does; or give the privileged-to-unprivileged
//! work to a child (`Switch::command`).

use runas_core::Target;
use std::io::{BufRead, Write};
use std::process::ExitCode;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

const WORKERS: usize = 4;

/// The credential lines of the calling thread, as the kernel shows them.
fn this_thread() -> String {
    let status = std::fs::read_to_string("/proc/thread-self/status").unwrap_or_default();
    status
        .lines()
        .filter(|line| {
            ["Uid:", "Gid:", "Groups:", "CapEff:"]
                .iter()
                .any(|field| line.starts_with(field))
        })
        .map(|line| line.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect::<Vec<_>>()
        .join(" | ")
}

fn tid() -> String {
    std::fs::read_link("/proc/thread-self")
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_default()
}

type Job = Box<dyn FnOnce() + Send>;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let user = args.first().map_or("nobody", String::as_str);
    let keep_keyring = args.iter().any(|a| a == "--keep-keyring");

    // The "runtime": workers that run jobs from a shared queue.
    let (jobs, queue) = mpsc::channel::<Job>();
    let queue = Arc::new(Mutex::new(queue));
    let workers: Vec<_> = (0..WORKERS)
        .map(|_| {
            let queue = Arc::clone(&queue);
            std::thread::spawn(move || {
                loop {
                    let job = match queue.lock() {
                        Ok(queue) => queue.recv(),
                        Err(_) => return,
                    };
                    match job {
                        Ok(job) => job(),
                        Err(_) => return,
                    }
                }
            })
        })
        .collect();

    let target = match Target::user(user) {
        Ok(target) if keep_keyring => target.keep_keyring(),
        Ok(target) => target,
        Err(e) => return fail(&e),
    };
    let outcome = target.resolve().and_then(|switch| switch.apply());
    // Either way, each thread reports what it holds: the main thread here,
    // each worker in a job. A barrier holds every worker in its job until
    // all have reported, so no worker takes two.
    let (answers, reports) = mpsc::channel();
    let barrier = Arc::new(std::sync::Barrier::new(WORKERS));
    for _ in 0..WORKERS {
        let (answers, barrier) = (answers.clone(), Arc::clone(&barrier));
        let job: Job = Box::new(move || {
            let _ = answers.send(format!("worker {}: {}", tid(), this_thread()));
            barrier.wait();
        });
        if jobs.send(job).is_err() {
            return ExitCode::FAILURE;
        }
    }
    let mut lines = vec![format!("main {}: {}", tid(), this_thread())];
    lines.extend(reports.iter().take(WORKERS));
    let verified = match outcome {
        Ok(verified) => verified,
        // After a first change: neither the old identity nor the new one
        // whole. Exit at once.
        Err(e @ runas_core::Error::PartlySwitched(_)) => return fail(&e),
        Err(e) => {
            // Refused before any change: every thread as it was.
            for line in lines {
                println!("still: {line}");
            }
            return fail(&e);
        }
    };
    println!("switched: {} threads, uid {}", WORKERS + 1, verified.uid());
    for line in lines {
        println!("{line}");
    }
    println!("serving");
    let _ = std::io::stdout().flush();
    for line in std::io::stdin().lock().lines() {
        let Ok(line) = line else { break };
        let answers = answers.clone();
        let job: Job = Box::new(move || {
            let _ = answers.send(format!("job {line:?} ran on {}: {}", tid(), this_thread()));
        });
        if jobs.send(job).is_err() {
            break;
        }
        if let Ok(answer) = reports.recv() {
            println!("{answer}");
            let _ = std::io::stdout().flush();
        }
    }
    drop(jobs);
    for worker in workers {
        let _ = worker.join();
    }
    ExitCode::SUCCESS
}

fn fail(e: &runas_core::Error) -> ExitCode {
    eprintln!("thread_pool: {e}");
    ExitCode::FAILURE
}
