//! What the options add around the switch: limits, environment files,
//! sessions and daemons, the terminal, process attributes, newgrp mode.

pub mod env_sources;
pub mod envfile;
pub mod newgrp;
pub mod process;
pub mod resources;
pub mod session;
pub mod terminal;
