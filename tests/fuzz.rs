//! Property-based fuzzing of everything that turns user input into ids:
//! spec parsing and the command line → request conversion. No input may
//! panic, and every accepted id must be in 0..=4294967294 and equal to the
//! decimal value of an all-digit input.
//!
//! Each property runs RUNAS_FUZZ_CASES cases (20,000 by default: a few
//! seconds, so the suite stays quick). Run longer with, for example:
//!     RUNAS_FUZZ_CASES=5000000 cargo test --release --test fuzz

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use runas::door::{self as spec, IdSpec, Kind, MAX_ID};
use std::ffi::OsString;

const DEFAULT_CASES: u32 = 20_000;

fn cases() -> u32 {
    std::env::var("RUNAS_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_CASES)
}

fn runner() -> TestRunner {
    TestRunner::new(Config {
        cases: cases(),
        failure_persistence: None,
        ..Config::default()
    })
}

/// Strings biased towards the interesting region: digits near 2^32, signs,
/// hex prefixes, separators, white space, and arbitrary Unicode.
fn spec_like() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[0-9]{0,25}",
        "[-+ 0x]{0,2}[0-9a-fA-F]{0,12}[ :,]{0,2}[0-9a-z]{0,10}",
        (0u64..=u64::from(u32::MAX) + 2).prop_map(|n| n.to_string()),
        (u64::from(MAX_ID) - 3..=u64::from(u32::MAX) + 3, "0{0,3}")
            .prop_map(|(n, zeros)| format!("{zeros}{n}")),
        "[a-z0-9_.-]{0,8}(:[a-z0-9_.+-]{0,8}){0,2}",
        "([0-9a-z-]{0,6},){0,5}[0-9a-z-]{0,6}",
    ]
}

/// The rule every accepted id must satisfy against its input text.
fn check_id(input: &str, parsed: &IdSpec) -> Result<(), TestCaseError> {
    match parsed {
        IdSpec::Id(id) => {
            prop_assert!(*id <= MAX_ID, "accepted id {} from {:?}", id, input);
            prop_assert!(input.bytes().all(|b| b.is_ascii_digit()) && !input.is_empty());
            prop_assert_eq!(input.parse::<u64>().ok(), Some(u64::from(*id)));
        }
        IdSpec::Name(name) => {
            prop_assert_eq!(name, input);
            prop_assert!(
                !input.bytes().all(|b| b.is_ascii_digit()),
                "digits became a name"
            );
            prop_assert!(!input.chars().any(char::is_whitespace));
            prop_assert!(!input.starts_with('-'));
        }
    }
    Ok(())
}

#[test]
fn parse_id_never_panics_and_accepts_only_valid_ids() {
    let inputs = std::cell::Cell::new(0u64);
    runner()
        .run(&spec_like(), |input| {
            inputs.set(inputs.get() + 1);
            for kind in [Kind::User, Kind::Group] {
                match spec::parse_id(&input, kind) {
                    Ok(parsed) => check_id(&input, &parsed)?,
                    Err(err) => {
                        prop_assert_eq!(err.exit_code(), 125);
                        // All-digit input in range is never rejected.
                        if input.bytes().all(|b| b.is_ascii_digit()) && !input.is_empty() {
                            prop_assert!(
                                input.parse::<u64>().map_or(true, |n| n > u64::from(MAX_ID))
                            );
                        }
                    }
                }
            }
            Ok(())
        })
        .unwrap();
    eprintln!("fuzz: parse_id ran {} inputs", inputs.get());
}

#[test]
fn user_specs_and_group_lists_never_panic_and_hold_only_valid_ids() {
    let inputs = std::cell::Cell::new(0u64);
    runner()
        .run(&spec_like(), |input| {
            inputs.set(inputs.get() + 1);
            if let Ok(parsed) = spec::parse_user_spec(&input) {
                let (user, group) = match input.split_once(':') {
                    Some((u, g)) => (u, Some(g)),
                    None => (input.as_str(), None),
                };
                check_id(user, &parsed.user)?;
                match (group, &parsed.group) {
                    (Some(text), Some(g)) => check_id(text, g)?,
                    (None, None) => {}
                    other => prop_assert!(false, "group part mismatch {:?}", other),
                }
            }
            if let Ok(list) = spec::parse_group_list(&input) {
                let items: Vec<&str> = if input.is_empty() {
                    vec![]
                } else {
                    input.split(',').collect()
                };
                prop_assert_eq!(items.len(), list.len());
                for (text, parsed) in items.iter().zip(&list) {
                    check_id(text, parsed)?;
                }
            }
            Ok(())
        })
        .unwrap();
    eprintln!(
        "fuzz: user specs and group lists ran {} inputs",
        inputs.get()
    );
}

#[test]
fn command_lines_never_panic_and_requests_hold_only_valid_ids() {
    let word = prop_oneof![
        Just("-u".to_owned()),
        Just("--user".to_owned()),
        Just("-g".to_owned()),
        Just("--group".to_owned()),
        Just("-G".to_owned()),
        Just("--groups".to_owned()),
        Just("--init-groups".to_owned()),
        Just("--keep-groups".to_owned()),
        Just("--clear-groups".to_owned()),
        Just("--".to_owned()),
        spec_like(),
    ];
    let inputs = std::cell::Cell::new(0u64);
    let mut config = runner().config().clone();
    config.cases = (cases() / 4).max(1);
    TestRunner::new(config)
        .run(&proptest::collection::vec(word, 0..8), |words| {
            inputs.set(inputs.get() + 1);
            let argv = std::iter::once("runas".to_owned())
                .chain(words)
                .map(OsString::from);
            for id in spec::ids_of_command_line(argv).unwrap_or_default() {
                prop_assert!(id <= MAX_ID);
            }
            Ok(())
        })
        .unwrap();
    eprintln!("fuzz: command lines ran {} inputs", inputs.get());
}
