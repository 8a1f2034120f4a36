//! Unstructured filter patterns, checked against the examples in AWS's
//! FilterAndPatternSyntax page and against the edge cases around them.

use query::{FilterPattern, PatternErrorKind};

/// The example events AWS uses under "Using filter patterns to match terms in
/// unstructured log events".
const AWS_EVENTS: [&str; 5] = [
    "[ERROR 400] BAD REQUEST",
    "[ERROR 401] UNAUTHORIZED REQUEST",
    "[ERROR 419] MISSING ARGUMENTS",
    "[ERROR 420] INVALID ARGUMENTS",
    "[ERROR 500] INTERNAL SERVER ERROR",
];

fn pattern(text: &str) -> FilterPattern {
    FilterPattern::parse(text).unwrap_or_else(|e| panic!("{text:?} should parse: {e}"))
}

fn matches(text: &str, message: &str) -> bool {
    pattern(text).matches(message.as_bytes())
}

/// Which of `events` the pattern keeps.
fn kept<'a>(text: &str, events: &[&'a str]) -> Vec<&'a str> {
    let p = pattern(text);
    events.iter().copied().filter(|e| p.matches(e.as_bytes())).collect()
}

fn error_kind(text: &str) -> PatternErrorKind {
    match FilterPattern::parse(text) {
        Ok(_) => panic!("{text:?} should be refused"),
        Err(e) => e.kind(),
    }
}

fn error_message(text: &str) -> String {
    match FilterPattern::parse(text) {
        Ok(_) => panic!("{text:?} should be refused"),
        Err(e) => e.message().to_owned(),
    }
}

// --- AWS documentation examples -------------------------------------------------

#[test]
fn aws_single_term() {
    assert_eq!(kept("ERROR", &AWS_EVENTS), AWS_EVENTS.to_vec());
}

#[test]
fn aws_multiple_terms_are_anded() {
    assert_eq!(kept("ERROR ARGUMENTS", &AWS_EVENTS), vec!["[ERROR 419] MISSING ARGUMENTS", "[ERROR 420] INVALID ARGUMENTS"]);
}

#[test]
fn aws_optional_terms_are_ored() {
    assert_eq!(kept("?ERROR ?ARGUMENTS", &AWS_EVENTS), AWS_EVENTS.to_vec());
    let events = ["ERROR WARN message", "ERROR message", "WARN message", "INFO message"];
    assert_eq!(kept("?ERROR ?WARN", &events), events[..3].to_vec());
}

#[test]
fn aws_optional_terms_are_ignored_when_mixed() {
    // AWS's example: `?ERROR ?ARGUMENTS REQUEST` matches every event with REQUEST.
    let events = ["[INFO] REQUEST FAILED", "[WARN] UNAUTHORIZED REQUEST", "[ERROR] 400 BAD REQUEST", "[ERROR 419] MISSING ARGUMENTS"];
    assert_eq!(kept("?ERROR ?ARGUMENTS REQUEST", &events), events[..3].to_vec());
}

#[test]
fn aws_exact_phrase() {
    assert_eq!(kept("\"INTERNAL SERVER ERROR\"", &AWS_EVENTS), vec![AWS_EVENTS[4]]);
}

#[test]
fn aws_include_and_exclude() {
    assert_eq!(kept("ERROR -ARGUMENTS", &AWS_EVENTS), vec![AWS_EVENTS[0], AWS_EVENTS[1], AWS_EVENTS[4]]);
    let events = ["ERROR WARN message", "ERROR message", "WARN message"];
    assert_eq!(kept("ERROR -WARN", &events), vec!["ERROR message"]);
}

#[test]
fn aws_term_matches_inside_words() {
    // AWS: `ERROR` matches "Exiting with ERRORCODE: -1".
    assert!(matches("ERROR", "Exiting with ERRORCODE: -1"));
    // AWS: `"ERROR" - "Exiting"` then excludes it.
    assert!(!matches("\"ERROR\" - \"Exiting\"", "Exiting with ERRORCODE: -1"));
    assert!(matches("\"ERROR\" - \"Exiting\"", "[ERROR] A fatal exception has occurred"));
}

#[test]
fn aws_unquoted_words_need_not_be_adjacent() {
    // AWS: "Failed to process the request" (no quotes in the page's meaning) matches
    // events containing all the words.
    let p = pattern("Failed to process the request");
    assert!(p.matches(b"[ERROR] Unable to continue: Failed to process the request"));
    assert!(p.matches(b"the request: process Failed to"));
    assert!(!p.matches(b"Failed to process"));
}

#[test]
fn aws_blank_phrase_matches_everything() {
    let p = pattern("\" \"");
    assert!(p.matches_everything());
    assert!(p.matches(b"nospaceshere"));
    assert!(p.matches(b""));
}

// --- Empty pattern and whitespace -------------------------------------------------

#[test]
fn empty_and_blank_patterns_match_everything() {
    for text in ["", " ", "\t\n\r  "] {
        let p = pattern(text);
        assert!(p.matches_everything(), "{text:?}");
        assert!(p.matches(b"anything at all"), "{text:?}");
        assert!(p.matches(b""), "{text:?}");
    }
}

#[test]
fn real_patterns_do_not_claim_to_match_everything() {
    for text in ["ERROR", "-ERROR", "?A ?B", "\"a b\"", "\" \" -x"] {
        assert!(!pattern(text).matches_everything(), "{text:?}");
    }
}

#[test]
fn surrounding_and_repeated_whitespace_is_ignored() {
    let p = pattern("  \tERROR \n\r  WARN\t");
    assert!(p.matches(b"ERROR and WARN"));
    assert!(!p.matches(b"ERROR only"));
}

// --- Case, substrings, bytes ------------------------------------------------------

#[test]
fn matching_is_case_sensitive() {
    assert!(!matches("ERROR", "error: disk full"));
    assert!(!matches("error", "ERROR: disk full"));
    assert!(!matches("\"Disk Full\"", "disk full"));
    assert!(matches("Error", "Error: disk full"));
}

#[test]
fn terms_match_as_substrings() {
    assert!(matches("ERR", "ERRORCODE"));
    assert!(matches("NAN", "BANANA"));
    assert!(matches("ERROR ERRORCODE", "ERRORCODE=7"));
    assert!(!matches("ERRORCODES", "ERRORCODE"));
}

#[test]
fn repeated_terms_need_only_one_occurrence() {
    assert!(matches("ERROR ERROR", "one ERROR"));
}

#[test]
fn empty_message_matches_only_exclusions() {
    assert!(!matches("ERROR", ""));
    assert!(!matches("?A ?B", ""));
    assert!(matches("-ERROR", ""));
}

#[test]
fn messages_need_not_be_utf8() {
    let p = pattern("ERROR");
    assert!(p.matches(b"\xff\xfe ERROR \x80"));
    assert!(!p.matches(b"\xff\xfe ERRO \x80R"));
}

// --- Quoted phrases ---------------------------------------------------------------

#[test]
fn phrase_is_exact_and_contiguous() {
    let p = pattern("\"INTERNAL SERVER ERROR\"");
    assert!(p.matches(b"x INTERNAL SERVER ERROR y"));
    assert!(!p.matches(b"SERVER INTERNAL ERROR"));
    assert!(!p.matches(b"INTERNAL  SERVER ERROR"));
}

#[test]
fn phrase_with_spaces_and_minus_is_not_an_exclusion() {
    let p = pattern("\"exit code -1\"");
    assert!(p.matches(b"process ended: exit code -1"));
    assert!(!p.matches(b"exit code 1"));
}

#[test]
fn phrase_keeps_punctuation() {
    assert!(matches("\"user@example.com\"", "login user@example.com ok"));
    assert!(matches("\"10.0.0.5\"", "from 10.0.0.5:3306"));
    assert!(!matches("\"10.0.0.5\"", "from 10.0.0.6"));
    assert!(matches("\"err:\"", "err: timeout"));
    assert!(matches("\"?x\"", "what ?x"));
    assert!(!matches("\"?x\"", "x"));
}

#[test]
fn phrase_keeps_inner_leading_and_trailing_spaces() {
    let p = pattern("\" ERROR \"");
    assert!(p.matches(b"a ERROR b"));
    assert!(!p.matches(b"[ERROR]"));
}

#[test]
fn phrase_escapes_match_json_escaped_text() {
    // A Docker json-file line holding an escaped JSON log line.
    let line = br#"{"log":"{\"level\":\"error\",\"msg\":\"boom\"}\n","stream":"stdout"}"#;
    assert!(pattern(r#""\\\"level\\\":\\\"error\\\"""#).matches(line));
    assert!(pattern(r#""say \"hi\"""#).matches(br#"they say "hi" twice"#));
    assert!(!pattern(r#""say \"hi\"""#).matches(br#"they say \"hi\" twice"#));
    assert!(pattern(r#""C:\Users""#).matches(br"dir C:\Users\bob"));
}

#[test]
fn optional_and_excluded_phrases() {
    let p = pattern("?\"disk full\" ?\"out of memory\"");
    assert!(p.matches(b"kernel: out of memory"));
    assert!(p.matches(b"disk full on /"));
    assert!(!p.matches(b"disk is full"));
    let q = pattern("ERROR -\"connection reset\"");
    assert!(q.matches(b"ERROR timeout"));
    assert!(!q.matches(b"ERROR connection reset by peer"));
}

// --- Unicode ------------------------------------------------------------------------

#[test]
fn quoted_unicode_matches_exact_bytes() {
    let p = pattern("\"café\"");
    assert!(p.matches("un café noir".as_bytes()));
    assert!(!p.matches(b"un cafe noir"));
    assert!(!p.matches("un CAFÉ noir".as_bytes()));
    assert!(matches("\"日本語 ログ\"", "これは日本語 ログです"));
    assert!(matches("?\"🔥\" ?\"panic\"", "🔥 on fire"));
}

#[test]
fn unquoted_unicode_is_refused() {
    assert_eq!(error_message("café"), "Invalid character(s) in term 'é'");
    assert_eq!(error_message("日本"), "Invalid character(s) in term '日本'");
}

// --- ? alternatives -----------------------------------------------------------------

#[test]
fn single_optional_term_acts_like_a_plain_term() {
    let p = pattern("?ERROR");
    assert!(p.matches(b"an ERROR"));
    assert!(!p.matches(b"all good"));
}

#[test]
fn optional_terms_are_ignored_beside_exclusions() {
    // "If you combine "?" with other filter patterns, all question mark terms will be ignored."
    let p = pattern("?ERROR ?WARN -DEBUG");
    assert!(p.matches(b"INFO only"));
    assert!(!p.matches(b"ERROR DEBUG"));
}

#[test]
fn optional_blank_phrase_satisfies_the_group() {
    assert!(pattern("?\" \" ?ERROR").matches_everything());
}

// --- - exclusions ---------------------------------------------------------------------

#[test]
fn exclusion_only_patterns() {
    let p = pattern("-ERROR");
    assert!(p.matches(b"INFO all good"));
    assert!(!p.matches(b"ERRORCODE 3"));
    let q = pattern("-ERROR -WARN");
    assert!(q.matches(b"INFO"));
    assert!(!q.matches(b"WARN"));
    assert!(!q.matches(b"ERROR"));
}

#[test]
fn excluding_the_blank_phrase_matches_nothing() {
    let p = pattern("-\" \"");
    assert!(!p.matches_everything());
    assert!(!p.matches(b"anything"));
    assert!(!p.matches(b""));
}

#[test]
fn exclusion_beats_inclusion_of_same_text() {
    assert!(!matches("ERROR -ERROR", "ERROR"));
}

// --- Invalid patterns -------------------------------------------------------------------

#[test]
fn unquoted_special_characters_get_aws_message() {
    assert_eq!(error_message("?Status: timeout"), "Invalid character(s) in term ':'");
    assert_eq!(error_message("email@domain.com"), "Invalid character(s) in term '@'");
    assert_eq!(error_message("user-service"), "Invalid character(s) in term '-'");
    assert_eq!(error_message("a.b"), "Invalid character(s) in term '.'");
    assert_eq!(error_message("ERROR *"), "Invalid character(s) in term '*'");
}

#[test]
fn empty_quotes_are_refused() {
    assert_eq!(error_message("\"\""), "Invalid character(s) in term '\"\"'");
    assert_eq!(error_kind("ERROR \"\""), PatternErrorKind::InvalidCharacters);
}

#[test]
fn unbalanced_quotes_are_refused() {
    for text in ["\"ERROR", "ERROR \"a b", "\"a\" \"b", "\"a\\\"", "\"\"\""] {
        assert!(FilterPattern::parse(text).is_err(), "{text:?}");
    }
    assert_eq!(error_kind("\"ERROR"), PatternErrorKind::UnterminatedQuote);
    assert_eq!(error_kind("\"a\" \"b"), PatternErrorKind::UnterminatedQuote);
}

#[test]
fn dangling_operators_are_refused() {
    for text in ["-", "?", "ERROR -", "ERROR ?", "- "] {
        assert_eq!(error_kind(text), PatternErrorKind::MissingTerm, "{text:?}");
    }
}

#[test]
fn touching_terms_are_refused() {
    assert_eq!(error_kind("\"a\"\"b\""), PatternErrorKind::MissingSeparator);
    assert_eq!(error_kind("ERROR\"x\""), PatternErrorKind::MissingSeparator);
}

#[test]
fn every_error_message_is_nonempty_and_displayed() {
    for text in ["\"x", "-", "a:b", "{", "[a", "%x", "\"a\"b", "{ $.a = }", "[a b]", "%a(b)%"] {
        let err = FilterPattern::parse(text).expect_err(text);
        assert!(!err.message().is_empty(), "{text:?}");
        assert_eq!(err.to_string(), err.message(), "{text:?}");
    }
}

// --- The other forms are dispatched on their first character ---------------------------

#[test]
fn json_space_delimited_and_regex_forms_are_not_terms() {
    // Each would be an invalid term pattern; as its own form it parses and matches.
    assert!(matches("{ $.eventType = \"UpdateTrail\" }", r#"{"eventType": "UpdateTrail"}"#));
    assert!(matches("[w1=ERROR, w2]", "ERROR message"));
    assert!(matches("%AUTHORIZED%", "[ERROR 401] UNAUTHORIZED REQUEST"));
}

#[test]
fn json_pattern_without_closing_brace_gets_aws_message() {
    assert_eq!(error_message("{ $.a = 1"), "If a filter pattern starts with '{' it must end with '}'");
}

#[test]
fn unclosed_space_delimited_and_regex_forms_are_refused() {
    assert_eq!(error_kind("[w1=ERROR, w2"), PatternErrorKind::Unclosed);
    assert_eq!(error_kind("%"), PatternErrorKind::Unclosed);
    assert_eq!(error_kind("%abc"), PatternErrorKind::Unclosed);
}

// --- Model check -----------------------------------------------------------------------

/// A naive restatement of the rules, to compare against on many generated patterns.
fn model(words: &[(char, &str)], message: &str) -> bool {
    let has = |w: &str| message.contains(w);
    let mixed = words.iter().any(|(p, _)| *p != '?');
    let required = words.iter().filter(|(p, _)| *p == ' ').all(|(_, w)| has(w));
    let excluded = words.iter().filter(|(p, _)| *p == '-').any(|(_, w)| has(w));
    let optional: Vec<_> = words.iter().filter(|(p, _)| *p == '?').collect();
    let any = mixed || optional.is_empty() || optional.iter().any(|(_, w)| has(w));
    required && !excluded && any
}

#[test]
fn agrees_with_naive_model_on_generated_patterns() {
    const WORDS: [&str; 6] = ["ab", "b", "ba", "\"a b\"", "c", "\"b-a\""];
    const MESSAGES: [&str; 8] = ["", "ab", "ba", "a b", "b-a c", "abc", "c ab ba", "cab b-a"];
    const PREFIXES: [char; 3] = [' ', '?', '-'];
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = |n: usize| {
        // xorshift: deterministic, no extra dependency.
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n as u64) as usize
    };
    for _ in 0..2000 {
        let len = 1 + next(4);
        let words: Vec<(char, &str)> = (0..len).map(|_| (PREFIXES[next(3)], WORDS[next(WORDS.len())])).collect();
        let text: String = words.iter().map(|(p, w)| format!("{}{w}", p.to_string().trim())).collect::<Vec<_>>().join(" ");
        let unquoted: Vec<(char, &str)> = words.iter().map(|(p, w)| (*p, w.trim_matches('"'))).collect();
        let p = pattern(&text);
        for message in MESSAGES {
            assert_eq!(p.matches(message.as_bytes()), model(&unquoted, message), "{text:?} on {message:?}");
        }
    }
}
