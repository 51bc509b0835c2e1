//! The parameter parsers: `FromStr` for `Activation` and `Gated`, and
//! `Activation::parse_list`, over arbitrary text. None may panic; what they
//! accept must satisfy what their docs promise:
//!
//! - `Activation`: "the result is validated"; "a parameter given twice is
//!   an error, as in Python"; "`Display` writes that form
//!   back" and "parses back with `FromStr`" (here: to the same kind with
//!   bit-identical parameters); a `ParseActivationError`'s `input` is "the
//!   text given".
//! - `parse_list` splits "only at commas outside parentheses" and skips empty
//!   items: one activation is a list of one, and the `Display` forms of a
//!   parsed list joined with ", " parse back to the same list.
//! - `Gated` "parses a name as `Gated::name` gives it (case-insensitive; `-`
//!   for `_`)"; `Display` writes the name; the error holds the text given.

#![no_main]

use libfuzzer_sys::fuzz_target;
use wgpu_activations::{Activation, Gated};

fuzz_target!(|data: &[u8]| {
    // Valid UTF-8 as it is; anything else through the lossy conversion (so
    // that invalid bytes still exercise the parsers, as U+FFFD).
    let text = String::from_utf8_lossy(data);
    check_activation(&text);
    check_list(&text);
    check_gated(&text);
});

/// The same kind with bit-identical parameters (`PartialEq` would equate
/// `0.0` and `-0.0`).
fn same(a: &Activation, b: &Activation) -> bool {
    a.name() == b.name()
        && a.param_values()
            .iter()
            .map(|v| v.to_bits())
            .eq(b.param_values().iter().map(|v| v.to_bits()))
}

fn check_activation(text: &str) {
    match text.parse::<Activation>() {
        Ok(act) => {
            assert!(
                act.validate().is_ok(),
                "{text:?} parsed to {act:?}, which fails validation"
            );
            assert_eq!(act.param_values().len(), act.param_names().len());
            assert!(
                Activation::ALL.iter().any(|a| a.name() == act.name()),
                "{act:?} is of no kind in Activation::ALL"
            );
            let shown = act.to_string();
            let back: Activation = shown
                .parse()
                .unwrap_or_else(|e| panic!("{text:?} -> {act:?} -> {shown:?}: {e}"));
            assert!(
                same(&act, &back),
                "{text:?} -> {act:?} -> {shown:?} -> {back:?}"
            );
            check_no_repeats(text, &act);
            let parts = Activation::from_parts(act.name(), &act.param_values());
            assert!(
                parts.is_some_and(|p| same(&p, &act)),
                "from_parts of {act:?} gave {parts:?}"
            );
        }
        Err(e) => {
            assert_eq!(e.input, text, "the error's input is the text given");
            let _ = e.to_string();
        }
    }
}

/// "A parameter given twice is an error, as in Python": in accepted text no
/// named parameter repeats, nor names a slot a positional value filled.
fn check_no_repeats(text: &str, act: &Activation) {
    let Some(open) = text.find('(') else {
        return;
    };
    let names = act.param_names();
    let mut filled = vec![false; names.len()];
    for (position, arg) in text[open + 1..]
        .trim_end()
        .trim_end_matches(')')
        .split(',')
        .enumerate()
    {
        let arg = arg.trim();
        if arg.is_empty() {
            continue;
        }
        let slot = match arg.split_once('=') {
            Some((key, _)) => names.iter().position(|n| *n == key.trim()),
            None => Some(position),
        };
        let slot = slot.unwrap_or_else(|| panic!("{text:?}: {arg:?} fills no slot of {act:?}"));
        assert!(
            !filled[slot],
            "{text:?} gives {:?} twice, yet parsed to {act:?}",
            names[slot]
        );
        filled[slot] = true;
    }
}

fn check_list(text: &str) {
    let Ok(list) = Activation::parse_list(text) else {
        return;
    };
    for act in &list {
        assert!(act.validate().is_ok(), "{text:?}: {act:?} is not valid");
    }
    // One activation is a list of one.
    if let Ok(single) = text.parse::<Activation>() {
        assert!(
            list.len() == 1 && same(&list[0], &single),
            "{text:?} parses to {single:?} but as a list to {list:?}"
        );
    }
    let joined = list
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    let back = Activation::parse_list(&joined)
        .unwrap_or_else(|e| panic!("{text:?} -> {list:?} -> {joined:?}: {e}"));
    assert!(
        back.len() == list.len() && back.iter().zip(&list).all(|(a, b)| same(a, b)),
        "{text:?} -> {list:?} -> {joined:?} -> {back:?}"
    );
}

fn check_gated(text: &str) {
    match text.parse::<Gated>() {
        Ok(kind) => {
            let wanted = text.trim().to_ascii_lowercase().replace('-', "_");
            assert_eq!(wanted, kind.name(), "{text:?} parsed to {kind:?}");
            assert_eq!(kind.to_string(), kind.name());
            assert_eq!(kind.to_string().parse::<Gated>(), Ok(kind));
            assert!(Gated::ALL.contains(&kind));
        }
        Err(e) => {
            assert_eq!(e.0, text, "the error holds the text given");
            // Every name as `Gated::name` gives it parses.
            let wanted = text.trim().to_ascii_lowercase().replace('-', "_");
            assert!(
                Gated::ALL.iter().all(|g| g.name() != wanted),
                "{text:?} is the name {wanted:?} but did not parse"
            );
            let _ = e.to_string();
        }
    }
}
