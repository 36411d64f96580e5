//! File attributes the dry run asks about: file capabilities, ACLs.

use nix::errno::Errno;
use nix::libc;
use std::ffi::CStr;

/// Whether the file has capabilities attached (the security.capability
/// extended attribute, which `setcap` writes).
pub fn has_file_capabilities(path: &CStr) -> Result<bool, Errno> {
    // SAFETY: a NUL-terminated path and attribute name; a null buffer of
    // size 0 only asks for the attribute's size.
    let ret = unsafe {
        libc::getxattr(
            path.as_ptr(),
            c"security.capability".as_ptr(),
            std::ptr::null_mut(),
            0,
        )
    };
    match Errno::result(ret) {
        Ok(_) => Ok(true),
        Err(Errno::ENODATA | Errno::EOPNOTSUPP) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Whether `path` carries a POSIX access ACL (its mode bits then do not
/// tell who may use it). An error counts as "it may": the caller only
/// predicts.
pub fn has_access_acl(path: &CStr) -> bool {
    // SAFETY: a NUL-terminated path and attribute name; a null buffer of
    // size 0 only asks for the attribute's size.
    let ret = unsafe {
        libc::getxattr(
            path.as_ptr(),
            c"system.posix_acl_access".as_ptr(),
            std::ptr::null_mut(),
            0,
        )
    };
    !matches!(Errno::result(ret), Err(Errno::ENODATA | Errno::EOPNOTSUPP))
}
