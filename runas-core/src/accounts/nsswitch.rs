//! nsswitch.conf, read as glibc 2.36 reads it: which services answer for
//! group memberships.

/// nsswitch.conf has a line glibc's parser refuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unparsable;

/// One service of an nsswitch.conf line, as glibc reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    pub name: String,
    /// It has a `[STATUS=ACTION]` block: glibc may stop after it, or go
    /// on, where the plain list would not.
    pub actions: bool,
}

/// White space as glibc's parser knows it (isspace in the C locale).
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r')
}

fn skip(text: &[u8], what: impl Fn(u8) -> bool) -> &[u8] {
    let at = text.iter().position(|&b| !what(b)).unwrap_or(text.len());
    &text[at..]
}

/// Where the first byte that is `what` is, or the end.
fn until(text: &[u8], what: impl Fn(u8) -> bool) -> usize {
    text.iter().position(|&b| what(b)).unwrap_or(text.len())
}

/// The databases glibc 2.36 knows (nss/databases.def), named exactly (case
/// counts): a line naming another is passed over unparsed.
const DATABASES: [&[u8]; 17] = [
    b"aliases",
    b"ethers",
    b"group",
    b"group_compat",
    b"gshadow",
    b"hosts",
    b"initgroups",
    b"netgroup",
    b"networks",
    b"passwd",
    b"passwd_compat",
    b"protocols",
    b"publickey",
    b"rpc",
    b"services",
    b"shadow",
    b"shadow_compat",
];

/// The service list of the database glibc's getgrouplist consults, unparsed,
/// as glibc 2.36 reads the file (nss/nss_database.c,
/// nss/nss_action_parse.c): every line, with leading white space skipped,
/// names a database up to white space or `:` (so `initgroups files`,
/// without a colon, counts), then the white space and colons after it are
/// skipped and the rest is its services; **the last line for a database
/// wins**; there are no comments (`group: files # sss` names the services
/// `files`, `#` and `sss`). The database is `initgroups` if a line names it
/// (even with no service: glibc then asks none), else `group`; `None` when
/// no line names either. Only the lines of the databases glibc knows
/// ([`DATABASES`]) have their services parsed (`sudoers: [X]` is passed
/// over, as `#group: [X]` is); `Err(Unparsable)` where glibc's parser fails
/// on one of those (see [`services`]): glibc then fails its user and group
/// lookups (getgrouplist falls back to the files alone). A
/// last line without its newline is not read at all. Bytes, as glibc
/// reads them (a Latin-1 comment changes nothing: every byte that matters
/// is ASCII), and nothing allocated: the file is read at every run.
fn membership_line(text: &[u8]) -> Result<Option<&[u8]>, Unparsable> {
    let (mut initgroups, mut group) = (None, None);
    // getline keeps the newline: a line that is only a name and its
    // newline names the database with no services. A last line without
    // one is never parsed: glibc's loop stops at the end of the file
    // before it looks at what getline read. Each line's end is found by
    // sys::memchr, a word at a time.
    let mut rest = text;
    while let Some(end) = crate::sys::memchr(rest, b'\n') {
        let line = skip(&rest[..=end], is_space);
        rest = &rest[end + 1..];
        let name_end = until(line, |b| is_space(b) || b == b':');
        // (The newline ends a name at the latest: glibc's "no name" and
        // "name to the end" syntax errors are one here.)
        if name_end == 0 {
            continue;
        }
        let name = &line[..name_end];
        if !DATABASES.contains(&name) {
            continue;
        }
        let rest = skip(&line[name_end..], |b| is_space(b) || b == b':');
        // Only a `[STATUS=ACTION]` block can make glibc's parser fail: a
        // line without `[` needs no closer look here (the membership line
        // is parsed again by its caller).
        if rest.contains(&b'[') {
            services(rest, |_, _| {})?;
        }
        match name {
            b"initgroups" => initgroups = Some(rest),
            b"group" => group = Some(rest),
            _ => {}
        }
    }
    Ok(initgroups.or(group))
}

/// A database's service list (nss_action_parse): each service's name and
/// whether it has a `[STATUS=ACTION]` block, given to `each` in order. A
/// service name ends at white space or `[`, and a `[` where a name should
/// start ends the list. `Err(Unparsable)` for an unknown status or action
/// in brackets, where glibc's parser fails.
fn services(mut line: &[u8], mut each: impl FnMut(&[u8], bool)) -> Result<(), Unparsable> {
    loop {
        line = skip(line, is_space);
        let end = until(line, |b| is_space(b) || b == b'[');
        if end == 0 {
            return Ok(());
        }
        let name = &line[..end];
        line = skip(&line[end..], is_space);
        let actions = line.first() == Some(&b'[');
        if actions {
            line = action_block(&line[1..])?;
        }
        each(name, actions);
    }
}

/// A `[STATUS=ACTION ...]` block after its `[`: what follows its `]`.
// Never inlined: most nsswitch.conf files have no such block, and inlined,
// its 1.6 KiB sat in the middle of the code every run executes
// (docs/performance.md).
#[inline(never)]
fn action_block(mut line: &[u8]) -> Result<&[u8], Unparsable> {
    let word_end = |s: &[u8]| until(s, |b| is_space(b) || b == b'=' || b == b']');
    let known = |word: &[u8], words: &[&[u8]]| words.iter().any(|w| w.eq_ignore_ascii_case(word));
    line = skip(line, is_space);
    loop {
        line = line.strip_prefix(b"!").unwrap_or(line);
        let status = &line[..word_end(line)];
        if !known(status, &[b"SUCCESS", b"UNAVAIL", b"NOTFOUND", b"TRYAGAIN"]) {
            return Err(Unparsable);
        }
        line = skip(&line[status.len()..], is_space);
        line = skip(line.strip_prefix(b"=").ok_or(Unparsable)?, is_space);
        let action = &line[..word_end(line)];
        if !known(action, &[b"RETURN", b"CONTINUE", b"MERGE"]) {
            return Err(Unparsable);
        }
        line = skip(&line[action.len()..], is_space);
        if let Some(after) = line.strip_prefix(b"]") {
            return Ok(after);
        }
    }
}

/// The services of the database glibc's getgrouplist consults (see
/// `membership_line`); `Ok(None)` when nsswitch.conf names neither
/// `initgroups` nor `group` (glibc then reads the files), `Err` when glibc
/// cannot parse it (and fails its lookups).
pub fn membership_services(nsswitch: &[u8]) -> Result<Option<Vec<Service>>, Unparsable> {
    let Some(line) = membership_line(nsswitch)? else {
        return Ok(None);
    };
    let mut list = Vec::new();
    services(line, |name, actions| {
        list.push(Service {
            name: String::from_utf8_lossy(name).into_owned(),
            actions,
        });
    })?;
    Ok(Some(list))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(conf: &str) -> Option<Vec<String>> {
        membership_services(conf.as_bytes())
            .unwrap()
            .map(|services| services.into_iter().map(|s| s.name).collect())
    }

    #[test]
    fn membership_services_come_from_initgroups_else_group() {
        let conf = "# comment\npasswd: files\ngroup:          files systemd\n";
        assert_eq!(names(conf).unwrap(), ["files", "systemd"]);
        let conf = "group: files [NOTFOUND=return] sss\ninitgroups: sss\n";
        assert_eq!(names(conf).unwrap(), ["sss"]);
        let conf = "group: files [ NOTFOUND=return ] ldap\n";
        assert_eq!(names(conf).unwrap(), ["files", "ldap"]);
        assert!(membership_services(conf.as_bytes()).unwrap().unwrap()[0].actions);
        assert_eq!(names("passwd: files\n"), None);
        assert_eq!(names("groups: files\n"), None);
    }

    #[test]
    fn nsswitch_conf_is_read_as_glibc_reads_it() {
        // The last line for a database wins: an appended line replaces.
        assert_eq!(
            names("group: files\ngroup: files sss\n").unwrap(),
            ["files", "sss"]
        );
        assert_eq!(
            names("group: files systemd\ngroup: files\n").unwrap(),
            ["files"]
        );
        // The name ends at white space: no colon is needed.
        assert_eq!(names("group files sss\n").unwrap(), ["files", "sss"]);
        assert_eq!(names("group:files\ninitgroups sss\n").unwrap(), ["sss"]);
        // Any run of colons and white space separates name and services.
        assert_eq!(names("group::: sss\n").unwrap(), ["sss"]);
        assert_eq!(names(" group: files\tsss\n").unwrap(), ["files", "sss"]);
        // No comments: '#' is a service name like any other.
        assert_eq!(
            names("group: files # sss\n").unwrap(),
            ["files", "#", "sss"]
        );
        assert_eq!(names("#group: sss\ngroup: files\n").unwrap(), ["files"]);
        // initgroups named with no service: glibc asks none (the primary
        // group alone), and it still hides `group`.
        assert_eq!(
            names("initgroups:\ngroup: files\n").unwrap(),
            Vec::<String>::new()
        );
        assert_eq!(
            names("initgroups\ngroup: files\n").unwrap(),
            Vec::<String>::new()
        );
        // ...but a last line without its newline is never parsed.
        assert_eq!(names("group: files\ninitgroups").unwrap(), ["files"]);
        assert_eq!(names("group: files\ngroup: sss").unwrap(), ["files"]);
        assert_eq!(names("group: files"), None);
        assert_eq!(
            names("group: files\nhosts: files [bad]"),
            Some(vec!["files".into()])
        );
        assert_eq!(
            names("group: files\ngroup: \n").unwrap(),
            Vec::<String>::new()
        );
        // A '[' where a name should start ends the list.
        assert_eq!(
            names("group: [SUCCESS=continue] files\n").unwrap(),
            Vec::<String>::new()
        );
        // An unknown status or action: glibc's parser fails.
        assert_eq!(
            membership_line(b"group: files [bad] ldap\n"),
            Err(Unparsable)
        );
        assert_eq!(
            membership_line(b"passwd: files [NOTFOUND=stop]\ngroup: files\n"),
            Err(Unparsable)
        );
        assert_eq!(
            membership_services(b"group: files [bad] ldap\n"),
            Err(Unparsable)
        );
        // Only the databases glibc knows are parsed: another line, or a
        // comment, may hold anything.
        assert_eq!(
            names("sudoers: files [bad]\n#group: [x]\ngroup: files\n").unwrap(),
            ["files"]
        );
        assert_eq!(names("Group: files [bad]\n"), None);
        assert_eq!(
            membership_line(b"hosts: files [bad]\ngroup: files\n"),
            Err(Unparsable)
        );
        assert_eq!(
            names("group: files [!UNAVAIL=return notfound=CONTINUE]\n").unwrap(),
            ["files"]
        );
    }

    #[test]
    fn only_files_alone_reads_the_files_alone() {
        let shortcut = |conf: &str| {
            matches!(
                membership_services(conf.as_bytes()).unwrap().as_deref(),
                Some([Service { name, actions: false }]) if name == "files"
            )
        };
        assert!(shortcut("group: files\n"));
        assert!(shortcut("group: sss\ngroup: files\n"));
        assert!(!shortcut("group: files\ngroup: files sss\n"));
        assert!(!shortcut("group: files\ngroup: files systemd\n"));
        assert!(!shortcut("group: files # sss\n"));
        assert!(!shortcut("group: files [SUCCESS=continue]\n"));
        assert!(!shortcut("group: files\ninitgroups sss\n"));
    }
}
