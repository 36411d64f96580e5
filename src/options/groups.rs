//! --add-group-of: the groups owning paths (a device, a socket) join the
//! supplementary list. The path is judged by the rules of src/paths/: the
//! file itself, never what a link in its place points to.

use crate::base::error::Result;
use crate::paths::{self, Files};
use crate::request::ids::Gid;
use std::path::PathBuf;

/// The owning group of each path, in order.
pub fn of_paths(paths: &[PathBuf], files: &dyn Files) -> Result<Vec<Gid>> {
    paths
        .iter()
        .map(|path| {
            files
                .group_of(path)
                .map_err(paths::refuse("--add-group-of", path))
        })
        .collect()
}
