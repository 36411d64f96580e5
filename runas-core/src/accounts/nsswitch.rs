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

/// The databases of nsswitch.conf, as glibc 2.36 reads the file
/// (nss/nss_database.c, nss/nss_action_parse.c): every line, with leading
/// white space skipped, names a database up to white space or `:` (so
/// `initgroups files`, without a colon, counts), then the white space and
/// colons after it are skipped and the rest is its services; **the last
/// line for a database wins**; there are no comments (`group: files #
/// sss` names the services `files`, `#` and `sss`); a service name ends
/// at white space or `[`, and a `[` where a name should start ends the
/// list. `Err(Unparsable)` where glibc's parser fails (an unknown status or action
/// in brackets): glibc then reads the whole file as unusable, and runas
/// takes no shortcut from it.
pub fn nsswitch_databases(text: &str) -> Result<Vec<(String, Vec<Service>)>, Unparsable> {
    let is_space = |c: char| c.is_ascii_whitespace() || c == '\x0b';
    let mut databases: Vec<(String, Vec<Service>)> = Vec::new();
    // getline keeps the newline: a line that is only a name and its
    // newline names the database with no services, while a last line
    // without one is a syntax error, skipped.
    let mut rest = text;
    while !rest.is_empty() {
        let (line, next) = match rest.find('\n') {
            Some(at) => (&rest[..=at], &rest[at + 1..]),
            None => (rest, ""),
        };
        rest = next;
        let line = line.trim_start_matches(is_space);
        let name_end = line
            .find(|c: char| is_space(c) || c == ':')
            .unwrap_or(line.len());
        if name_end == 0 || name_end == line.len() {
            continue;
        }
        let name = &line[..name_end];
        let services =
            parse_services(line[name_end..].trim_start_matches(|c| is_space(c) || c == ':'))?;
        databases.retain(|(known, _)| known != name);
        databases.push((name.to_owned(), services));
    }
    Ok(databases)
}

/// A database's service list (nss_action_parse).
fn parse_services(mut line: &str) -> Result<Vec<Service>, Unparsable> {
    let is_space = |c: char| c.is_ascii_whitespace() || c == '\x0b';
    let mut services = Vec::new();
    loop {
        line = line.trim_start_matches(is_space);
        let end = line
            .find(|c: char| is_space(c) || c == '[')
            .unwrap_or(line.len());
        if end == 0 {
            return Ok(services);
        }
        let name = line[..end].to_owned();
        line = line[end..].trim_start_matches(is_space);
        let actions = line.starts_with('[');
        if actions {
            line = line[1..].trim_start_matches(is_space);
            loop {
                line = line.strip_prefix('!').unwrap_or(line);
                let word_end = |s: &str| {
                    s.find(|c: char| is_space(c) || c == '=' || c == ']')
                        .unwrap_or(s.len())
                };
                let status = &line[..word_end(line)];
                if !["SUCCESS", "UNAVAIL", "NOTFOUND", "TRYAGAIN"]
                    .iter()
                    .any(|known| known.eq_ignore_ascii_case(status))
                {
                    return Err(Unparsable);
                }
                line = line[status.len()..].trim_start_matches(is_space);
                line = line
                    .strip_prefix('=')
                    .ok_or(Unparsable)?
                    .trim_start_matches(is_space);
                let action = &line[..word_end(line)];
                if !["RETURN", "CONTINUE", "MERGE"]
                    .iter()
                    .any(|known| known.eq_ignore_ascii_case(action))
                {
                    return Err(Unparsable);
                }
                line = line[action.len()..].trim_start_matches(is_space);
                if let Some(after) = line.strip_prefix(']') {
                    line = after;
                    break;
                }
            }
        }
        services.push(Service { name, actions });
    }
}

/// The services of the database glibc's getgrouplist consults: the
/// `initgroups` database if nsswitch.conf names it (even with no service:
/// glibc then asks none), else `group`; `None` when it names neither (glibc
/// then reads the files) or cannot be parsed (see nsswitch_databases).
pub fn membership_services(nsswitch: &str) -> Option<Vec<Service>> {
    let databases = nsswitch_databases(nsswitch).ok()?;
    let of = |db: &str| {
        databases
            .iter()
            .find(|(name, _)| name == db)
            .map(|(_, services)| services.clone())
    };
    of("initgroups").or_else(|| of("group"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(conf: &str) -> Option<Vec<String>> {
        membership_services(conf).map(|services| services.into_iter().map(|s| s.name).collect())
    }

    #[test]
    fn membership_services_come_from_initgroups_else_group() {
        let conf = "# comment\npasswd: files\ngroup:          files systemd\n";
        assert_eq!(names(conf).unwrap(), ["files", "systemd"]);
        let conf = "group: files [NOTFOUND=return] sss\ninitgroups: sss\n";
        assert_eq!(names(conf).unwrap(), ["sss"]);
        let conf = "group: files [ NOTFOUND=return ] ldap\n";
        assert_eq!(names(conf).unwrap(), ["files", "ldap"]);
        assert!(membership_services(conf).unwrap()[0].actions);
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
        // ...but a last line without its newline is a syntax error.
        assert_eq!(names("group: files\ninitgroups").unwrap(), ["files"]);
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
            nsswitch_databases("group: files [bad] ldap\n"),
            Err(Unparsable)
        );
        assert_eq!(
            nsswitch_databases("group: files [NOTFOUND=stop]\n"),
            Err(Unparsable)
        );
        assert_eq!(names("group: files [bad] ldap\n"), None);
        assert_eq!(
            names("group: files [!UNAVAIL=return notfound=CONTINUE]\n").unwrap(),
            ["files"]
        );
    }

    #[test]
    fn only_files_alone_reads_the_files_alone() {
        let shortcut = |conf: &str| {
            matches!(
                membership_services(conf).as_deref(),
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
