//! Execute the list of steps (steps.rs), in order, and nothing else. The
//! forks are option steps: after --daemon's, the caller is done and the
//! daemon goes on with the list; after a new session's, the parent only
//! waits and the child goes on.

use crate::base::error::{Error, Result};
use crate::core::exec::{self, EnvPlan};
use crate::core::facts::Facts;
use crate::core::plan::Plan;
use crate::core::steps::Step;
use crate::core::steps::{Context, Extra, Flow};
use crate::core::transition::{self, Keyring};
use crate::core::verify;
use crate::sys::WholeProgram;
use std::ffi::OsString;

/// Execute the steps. Returns `Ok` only where this process is done without
/// an exec (the caller of a daemon that started); a run that reaches its
/// exec does not return at all.
pub fn execute<X: Extra>(
    steps: Vec<Step<X>>,
    plan: &Plan,
    facts: &Facts,
    env: EnvPlan,
    command: &[OsString],
    promise: WholeProgram,
) -> Result<()> {
    let mut context = Context {
        plan,
        promise,
        parent: facts.parent,
        env,
    };
    let mut state = X::State::default();
    // What the session keyring became, once made.
    let mut keyring: Option<Keyring> = None;
    for step in steps {
        let flow = match step {
            Step::Credential(change) => {
                transition::execute(&change, plan, &facts.credentials).map(|made| {
                    keyring = made.or(keyring);
                    Flow::Next
                })
            }
            Step::Extra(extra) => extra.apply(&mut context, &mut state),
            Step::Verify(proof) => {
                bench_stage("switch", promise);
                verify::verify(plan, &proof, keyring).map(|()| Flow::Next)
            }
            Step::Exec { .. } => {
                bench_stage("verify", promise);
                Err(exec::exec(command, &context.env, promise))
            }
        };
        match flow {
            Ok(Flow::Next) => {}
            Ok(Flow::Done) => return Ok(()),
            Err(e) => return Err(X::failed(&state, e)),
        }
    }
    Err(X::failed(
        &state,
        Error::Verification("the list of steps ended without an exec".into()),
    ))
}

/// bench/run's stage split: a build with the `bench-stages` feature and
/// RUNAS_BENCH_STOP_AT=STAGE in its environment execs /bin/true when it
/// reaches STAGE instead of going on, so the cost of each stage is the
/// difference between two builds. A compile-time constant, and without
/// the feature (every build but bench/run's) the variable is not even
/// read: a stray one cannot make a release build skip its command.
#[cfg(feature = "bench-stages")]
const BENCH_STOP_AT: Option<&str> = option_env!("RUNAS_BENCH_STOP_AT");
#[cfg(not(feature = "bench-stages"))]
const BENCH_STOP_AT: Option<&str> = None;

/// Stop here if this is the bench build for `stage` (see above).
pub fn bench_stage(stage: &str, promise: WholeProgram) {
    if BENCH_STOP_AT == Some(stage) {
        let _ = exec::exec(&["/bin/true".into()], &exec::EnvPlan::default(), promise);
        std::process::exit(125);
    }
}
