//! Making a directory hold what another holds, touching only what differs.

use std::{
    fs,
    os::unix::fs::PermissionsExt,
    path::{Path, PathBuf},
};

/// Makes `to` hold exactly the files of `from`: a file whose bytes and mode are already
/// there keeps its modification time; others are copied, and what `from` lacks is
/// removed. Each tier is a test process of its own that generates every variant afresh;
/// a project whose files kept their times is one cargo finds built, where a rewritten
/// one would be linted and compiled again, about twenty seconds a variant and tier.
pub fn mirror(from: &Path, to: &Path) -> Result<(), String> {
    fs::create_dir_all(to).map_err(|e| format!("{}: {e}", to.display()))?;
    let wanted = entries(from)?;
    for name in entries(to)? {
        let path = to.join(&name);
        let kept = wanted.contains(&name) && path.is_dir() == from.join(&name).is_dir();
        if !kept {
            let removed = if path.is_dir() {
                fs::remove_dir_all(&path)
            } else {
                fs::remove_file(&path)
            };
            removed.map_err(|e| format!("{}: {e}", path.display()))?;
        }
    }
    for name in wanted {
        let (source, target) = (from.join(&name), to.join(&name));
        if source.is_dir() {
            mirror(&source, &target)?;
        } else if !same_file(&source, &target) {
            fs::copy(&source, &target).map_err(|e| format!("{}: {e}", target.display()))?;
        }
    }
    Ok(())
}

fn entries(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let mut names = Vec::new();
    for entry in fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))? {
        names.push(PathBuf::from(entry.map_err(|e| e.to_string())?.file_name()));
    }
    Ok(names)
}

/// Whether both files hold the same bytes with the same permissions.
fn same_file(a: &Path, b: &Path) -> bool {
    let mode = |path: &Path| fs::metadata(path).map(|m| m.permissions().mode()).ok();
    mode(a).is_some()
        && mode(a) == mode(b)
        && matches!((fs::read(a), fs::read(b)), (Ok(x), Ok(y)) if x == y)
}
