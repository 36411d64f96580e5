//! A TCP server that binds a privileged port as root, then becomes a
//! service account, verified, before it reads a byte from the network.
//!
//! ```text
//! sudo target/debug/examples/bind_then_drop www-data 0.0.0.0:80
//! curl http://localhost/        # answers with the credentials it serves with
//! ```
//!
//! The order is the point: resolve the account first (a typo or an
//! unreadable /etc/group fails here, before anything is open), bind as
//! root, switch, and only then accept. `Switch::apply` returns once the
//! switch is proved: ids, groups and capabilities read back, the old ids
//! refused when tried again. `--once` answers one connection and exits.

use runas_core::{Groups, Target};
use std::io::Write;
use std::net::TcpListener;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let once = args.iter().any(|a| a == "--once");
    let mut words = args.iter().filter(|a| *a != "--once");
    let user = words.next().map_or("nobody", String::as_str);
    let address = words.next().map_or("0.0.0.0:80", String::as_str);
    match serve(user, address, once) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bind_then_drop: {e}");
            ExitCode::FAILURE
        }
    }
}

fn serve(user: &str, address: &str, once: bool) -> Result<(), Box<dyn std::error::Error>> {
    let switch = Target::user(user)?.groups(Groups::Database)?.resolve()?;
    let listener = TcpListener::bind(address).map_err(|e| format!("binding {address}: {e}"))?;
    let verified = switch.apply()?;
    println!(
        "ready: listening on {} as uid {}, gid {}, groups {:?}",
        listener.local_addr()?,
        verified.uid(),
        verified.gid(),
        verified
            .groups()
            .iter()
            .map(|g| g.to_string())
            .collect::<Vec<_>>()
    );
    std::io::stdout().flush()?;
    for stream in listener.incoming() {
        let mut stream = stream?;
        // What the kernel says this process is, for the client to see.
        let status = std::fs::read_to_string("/proc/self/status")?;
        for line in status.lines() {
            if ["Uid:", "Gid:", "Groups:", "CapPrm:", "CapEff:"]
                .iter()
                .any(|field| line.starts_with(field))
            {
                writeln!(stream, "{line}")?;
            }
        }
        if once {
            break;
        }
    }
    Ok(())
}
