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
                crate::bench_stage("switch", promise);
                verify::verify(plan, &proof, keyring).map(|()| Flow::Next)
            }
            Step::Exec { .. } => {
                crate::bench_stage("verify", promise);
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
