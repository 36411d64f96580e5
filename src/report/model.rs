//! One report model, rendered as text or as one JSON object: --dump and
//! --dry-run build a list of [`Field`]s and [`render`] writes them either
//! way, so the two forms cannot say different things.

use crate::base::quote::{json_str, text_str};
use crate::core::{
    call::{Arg, Call},
    steps::Shown,
};
use std::fmt::Write as _;

/// A value, as JSON has them, plus an id with its name.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Str(String),
    /// `{"id":1500,"name":"alice"}`; as text, `1500(alice)`.
    Id(u32, Option<String>),
    List(Vec<Value>),
    Object(Vec<(&'static str, Value)>),
    /// An object whose keys are data (variable names).
    Map(Vec<(String, Value)>),
}

impl Value {
    pub fn str(text: impl Into<String>) -> Value {
        Value::Str(text.into())
    }

    /// `None` as null.
    pub fn opt<T>(value: Option<T>, f: impl FnOnce(T) -> Value) -> Value {
        value.map_or(Value::Null, f)
    }

    pub fn json(&self) -> String {
        let mut out = String::new();
        self.write_json(&mut out);
        out
    }

    fn write_json(&self, out: &mut String) {
        match self {
            Value::Null => out.push_str("null"),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Int(n) => {
                let _ = write!(out, "{n}");
            }
            Value::Str(s) => out.push_str(&json_str(s)),
            Value::Id(id, name) => {
                let _ = write!(out, "{{\"id\":{id},\"name\":");
                match name {
                    Some(name) => out.push_str(&json_str(name)),
                    None => out.push_str("null"),
                }
                out.push('}');
            }
            Value::List(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write_json(out);
                }
                out.push(']');
            }
            Value::Object(fields) => {
                write_object(out, fields.iter().map(|(k, v)| (*k, v)));
            }
            Value::Map(fields) => {
                write_object(out, fields.iter().map(|(k, v)| (k.as_str(), v)));
            }
        }
    }

    /// As a line of text shows it: ids with their names, a list joined
    /// with commas (`none` when empty), strings quoted as text.
    pub fn text(&self) -> String {
        match self {
            Value::Null => "none".into(),
            Value::Bool(b) => u8::from(*b).to_string(),
            Value::Int(n) => n.to_string(),
            Value::Str(s) => text_str(s),
            Value::Id(id, Some(name)) => format!("{id}({})", text_str(name)),
            Value::Id(id, None) => id.to_string(),
            Value::List(items) if items.is_empty() => "none".into(),
            Value::List(items) => items.iter().map(Value::text).collect::<Vec<_>>().join(","),
            Value::Object(_) | Value::Map(_) => self.json(),
        }
    }
}

fn write_object<'a>(out: &mut String, fields: impl Iterator<Item = (&'a str, &'a Value)>) {
    out.push('{');
    for (i, (key, value)) in fields.enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&json_str(key));
        out.push(':');
        value.write_json(out);
    }
    out.push('}');
}

/// How a field reads as text.
#[derive(Debug, Clone, PartialEq)]
pub enum Text {
    /// `key: value`, the value as [`Value::text`] shows it.
    Plain,
    /// These lines instead.
    Lines(Vec<String>),
    /// Not in the text (said elsewhere, or only for programs).
    Omitted,
}

/// One field of a report.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub key: &'static str,
    pub value: Value,
    pub text: Text,
}

impl Field {
    pub fn plain(key: &'static str, value: Value) -> Field {
        Field {
            key,
            value,
            text: Text::Plain,
        }
    }

    pub fn with_text(key: &'static str, value: Value, text: Text) -> Field {
        Field { key, value, text }
    }
}

/// The report as one JSON object, or as lines of text.
pub fn render(fields: &[Field], json: bool) -> String {
    if json {
        let object = Value::Object(fields.iter().map(|f| (f.key, f.value.clone())).collect());
        return object.json() + "\n";
    }
    let mut out = String::new();
    for field in fields {
        match &field.text {
            Text::Plain => {
                let _ = writeln!(out, "{}: {}", field.key, field.value.text());
            }
            Text::Lines(lines) => {
                for line in lines {
                    out.push_str(line);
                    out.push('\n');
                }
            }
            Text::Omitted => {}
        }
    }
    out
}

/// One argument of a system call, in JSON: numbers as numbers, lists as
/// lists, a field as `{"name": value}`, the rest as the text shows them (a
/// path quoted, as strace shows it).
fn arg_value(arg: &Arg) -> Value {
    match arg {
        Arg::Num(n) => Value::Int(*n),
        Arg::List(ids) => Value::List(ids.iter().map(|&id| Value::Int(id.into())).collect()),
        Arg::Field(name, value) => Value::Object(vec![(name, arg_value(value))]),
        other => Value::str(other.to_string()),
    }
}

fn call_value(call: &Call) -> Value {
    let mut fields = vec![
        ("call", Value::str(call.name)),
        (
            "args",
            Value::List(call.args.iter().map(arg_value).collect()),
        ),
    ];
    if let Some(errno) = call.fails {
        fields.push(("fails", Value::str(errno)));
    }
    Value::Object(fields)
}

/// A step in JSON: its calls, with their arguments; the calls another
/// process makes, by process; what it is for.
pub fn step_value(shown: &Shown) -> Value {
    let mut fields = vec![(
        "calls",
        Value::List(shown.calls.iter().map(call_value).collect()),
    )];
    if !shown.elsewhere.is_empty() {
        fields.push((
            "elsewhere",
            Value::List(
                shown
                    .elsewhere
                    .iter()
                    .map(|(process, calls)| {
                        Value::Object(vec![
                            ("process", Value::str(*process)),
                            ("calls", Value::List(calls.iter().map(call_value).collect())),
                        ])
                    })
                    .collect(),
            ),
        ));
    }
    fields.push(("note", Value::opt(shown.note.clone(), Value::Str)));
    Value::Object(fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_model_two_forms() {
        let fields = [
            Field::plain("uid", Value::Id(1500, Some("alice".into()))),
            Field::plain("groups", Value::List(vec![])),
            Field::with_text("valid", Value::Bool(true), Text::Omitted),
            Field::with_text(
                "umask",
                Value::str("0027"),
                Text::Lines(vec!["umask 0027".into()]),
            ),
        ];
        assert_eq!(
            render(&fields, true),
            "{\"uid\":{\"id\":1500,\"name\":\"alice\"},\"groups\":[],\"valid\":true,\"umask\":\"0027\"}\n"
        );
        assert_eq!(
            render(&fields, false),
            "uid: 1500(alice)\ngroups: none\numask 0027\n"
        );
    }

    #[test]
    fn steps_are_objects_with_calls_and_args() {
        let shown = Shown {
            calls: vec![
                Call::new("setresuid", vec![Arg::Num(1500); 3]),
                Call::new(
                    "prlimit64",
                    vec![
                        Arg::Num(0),
                        Arg::name("RLIMIT_CORE"),
                        Arg::field("rlim_cur", Arg::Num(0)),
                    ],
                ),
            ],
            elsewhere: vec![],
            note: None,
        };
        assert_eq!(
            step_value(&shown).json(),
            "{\"calls\":[{\"call\":\"setresuid\",\"args\":[1500,1500,1500]},{\"call\":\"prlimit64\",\"args\":[0,\"RLIMIT_CORE\",{\"rlim_cur\":0}]}],\"note\":null}"
        );
    }
}
