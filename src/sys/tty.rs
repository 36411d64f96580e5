//! Terminal ioctls.

use nix::errno::Errno;
use nix::libc;

/// ioctl(fd, TIOCGPGRP): the foreground process group of the terminal on
/// `fd`. The kernel answers only when that terminal is the caller's
/// controlling terminal (ENOTTY otherwise), which is what makes this the
/// test for "is this descriptor my controlling terminal".
/// A raw descriptor, so that 0-2 can be asked even when the caller closed
/// them (EBADF then).
pub fn tiocgpgrp(fd: std::os::fd::RawFd) -> Result<i32, Errno> {
    let mut pgrp: libc::pid_t = 0;
    // SAFETY: TIOCGPGRP writes one pid_t to the pointer, which is valid;
    // any integer is a memory-safe descriptor argument (a closed one fails).
    let ret = unsafe { libc::ioctl(fd, libc::TIOCGPGRP, &raw mut pgrp) };
    Errno::result(ret)?;
    Ok(pgrp)
}

/// ioctl(fd, TIOCGDEV): the device number of the terminal `fd` refers to,
/// which fstat does not give for a descriptor opened from /dev/tty (that
/// is /dev/tty's own node, 5:0).
pub fn tiocgdev(fd: std::os::fd::RawFd) -> Result<u64, Errno> {
    let mut dev: libc::c_uint = 0;
    // SAFETY: TIOCGDEV writes one unsigned int to the pointer, which is
    // valid; any integer is a memory-safe descriptor argument.
    let ret = unsafe { libc::ioctl(fd, libc::TIOCGDEV, &raw mut dev) };
    Errno::result(ret)?;
    // The kernel's new_encode_dev: minor's low byte, major, minor's rest.
    let (major, minor) = ((dev & 0xfff00) >> 8, (dev & 0xff) | ((dev >> 12) & 0xfff00));
    Ok(libc::makedev(major, minor))
}

/// ioctl(fd, TIOCGPTN): the number of the pseudo-terminal whose master
/// `fd` is; it answers only on a master.
pub fn tiocgptn(fd: std::os::fd::RawFd) -> Result<u32, Errno> {
    let mut number: libc::c_uint = 0;
    // SAFETY: TIOCGPTN writes one unsigned int to the pointer, which is
    // valid; any integer is a memory-safe descriptor argument.
    let ret = unsafe { libc::ioctl(fd, libc::TIOCGPTN, &raw mut number) };
    Errno::result(ret)?;
    Ok(number)
}

/// ioctl(fd, TIOCGSID): the session whose controlling terminal `fd` is; it
/// answers only on one's own controlling terminal (and a pty master).
pub fn tiocgsid(fd: std::os::fd::RawFd) -> Result<i32, Errno> {
    let mut sid: libc::pid_t = 0;
    // SAFETY: TIOCGSID writes one pid_t to the pointer, which is valid;
    // any integer is a memory-safe descriptor argument.
    let ret = unsafe { libc::ioctl(fd, libc::TIOCGSID, &raw mut sid) };
    Errno::result(ret)?;
    Ok(sid)
}

/// ioctl(fd, TIOCVHANGUP): hang up the terminal on `fd` for every open
/// file that refers to it (needs CAP_SYS_ADMIN), as vhangup(2) does for
/// the controlling terminal.
pub fn tiocvhangup(fd: std::os::fd::RawFd) -> Result<(), Errno> {
    // SAFETY: TIOCVHANGUP takes no argument; any integer is a memory-safe
    // descriptor argument.
    let ret = unsafe { libc::ioctl(fd, libc::TIOCVHANGUP) };
    Errno::result(ret).map(drop)
}

/// ioctl(fd, TIOCNOTTY): give up the controlling terminal.
pub fn tiocnotty(fd: std::os::fd::RawFd) -> Result<(), Errno> {
    // SAFETY: TIOCNOTTY takes no argument; any integer is a memory-safe
    // descriptor argument.
    let ret = unsafe { libc::ioctl(fd, libc::TIOCNOTTY) };
    Errno::result(ret).map(drop)
}
