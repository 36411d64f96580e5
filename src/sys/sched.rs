//! Scheduling: the nice value, the I/O priority, the CPU affinity.

use nix::errno::Errno;
use nix::libc;

/// setpriority(PRIO_PROCESS, 0, nice): this process's nice value.
pub fn set_nice(nice: i32) -> Result<(), Errno> {
    // SAFETY: integers only.
    Errno::result(unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, nice) }).map(drop)
}

/// getpriority(PRIO_PROCESS, 0). The libc call returns the nice value
/// itself, so -1 is both a value and the error sign: errno, cleared first,
/// tells them apart.
pub fn get_nice() -> Result<i32, Errno> {
    Errno::clear();
    // SAFETY: integers only.
    let value = unsafe { libc::getpriority(libc::PRIO_PROCESS, 0) };
    match (value, Errno::last_raw()) {
        (-1, errno) if errno != 0 => Err(Errno::from_raw(errno)),
        (value, _) => Ok(value),
    }
}

/// ioprio_set(IOPRIO_WHO_PROCESS, 0, prio): this thread's I/O priority
/// (runas never starts another thread).
pub fn set_ioprio(prio: u16) -> Result<(), Errno> {
    const IOPRIO_WHO_PROCESS: libc::c_int = 1;
    // SAFETY: integers only.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_ioprio_set,
            IOPRIO_WHO_PROCESS,
            0 as libc::c_int,
            libc::c_int::from(prio),
        )
    };
    Errno::result(ret).map(drop)
}

/// ioprio_get(IOPRIO_WHO_PROCESS, 0).
pub fn get_ioprio() -> Result<u16, Errno> {
    const IOPRIO_WHO_PROCESS: libc::c_int = 1;
    // SAFETY: integers only.
    let ret = unsafe { libc::syscall(libc::SYS_ioprio_get, IOPRIO_WHO_PROCESS, 0 as libc::c_int) };
    Errno::result(ret).map(|v| v as u16)
}

/// The number of CPUs a `cpu_set_t` holds (CPU_SETSIZE).
pub const CPU_SETSIZE: usize = libc::CPU_SETSIZE as usize;

/// sched_setaffinity(0, cpus): this thread's CPUs.
pub fn set_affinity(cpus: &[usize]) -> Result<(), Errno> {
    // SAFETY: cpu_set_t is plain bits, all-zero is the empty set.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    for &cpu in cpus {
        if cpu >= CPU_SETSIZE {
            return Err(Errno::EINVAL);
        }
        // SAFETY: cpu < CPU_SETSIZE, checked above: the bit is inside `set`.
        unsafe { libc::CPU_SET(cpu, &mut set) };
    }
    // SAFETY: the pointer and size describe `set`, which lives across the call.
    let ret = unsafe {
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &raw const set)
    };
    Errno::result(ret).map(drop)
}

/// sched_getaffinity(0): this thread's CPUs, ascending.
pub fn get_affinity() -> Result<Vec<usize>, Errno> {
    // SAFETY: cpu_set_t is plain bits, all-zero is the empty set.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: the pointer and size describe `set`, which the kernel fills.
    let ret =
        unsafe { libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &raw mut set) };
    Errno::result(ret)?;
    Ok((0..CPU_SETSIZE)
        // SAFETY: cpu < CPU_SETSIZE: the bit is inside `set`.
        .filter(|&cpu| unsafe { libc::CPU_ISSET(cpu, &set) })
        .collect())
}
