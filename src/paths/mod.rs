//! Paths root opens or inspects on the target's behalf.

pub mod trusted;
