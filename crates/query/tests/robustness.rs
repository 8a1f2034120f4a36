//! Untrusted input must never panic, and the JSON scanner must agree with a real parser
//! on what is valid JSON.

use query::FilterPattern;

/// Deterministic xorshift, so failures reproduce.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

const DOCS: [&str; 4] = [
    r#"{"eventType": "UpdateTrail", "arrayKey": ["value", "another value"], "objectList": [{"name": "a", "id": 1}, {"name": "b", "id": 2}], "SomeObject": null, "ThisFlag": true}"#,
    r#"{"user": {"id": 1, "email": "John.Stiles@example.com"}, "coordinates": [[0, 1, 2], [4, 5, 6]], "n": -1.5e+3, "s": "a\"b\\c\u00e9"}"#,
    r#"{"a":{},"b":[],"c":"","d":0,"e":false}"#,
    r#"{ "deep": [[[[{"x": [1, {"y": null}]}]]]] }"#,
];

/// Bytes that are structurally interesting to JSON, all ASCII so UTF-8 handling is not
/// what is being compared.
const NOISE: &[u8] = b"{}[],:\" \\0123456789-+.eEtrufalsnx/\t\n";

#[test]
fn json_validity_agrees_with_serde_json_on_mutated_documents() {
    // `NOT EXISTS` on a key no document has: matches exactly the valid JSON objects.
    let pattern = FilterPattern::parse("{ $.zzz NOT EXISTS }").unwrap();
    let mut rng = Rng(0x243f_6a88_85a3_08d3);
    let mut checked = 0;
    for _ in 0..20_000 {
        let mut doc = DOCS[rng.below(DOCS.len())].as_bytes().to_vec();
        for _ in 0..1 + rng.below(3) {
            let at = rng.below(doc.len());
            match rng.below(3) {
                0 => doc[at] = NOISE[rng.below(NOISE.len())],
                1 => {
                    doc.remove(at);
                }
                _ => doc.insert(at, NOISE[rng.below(NOISE.len())]),
            }
        }
        let expected = serde_json::from_slice::<serde_json::Value>(&doc).is_ok_and(|v| v.is_object());
        assert_eq!(pattern.matches(&doc), expected, "{}", String::from_utf8_lossy(&doc));
        checked += usize::from(expected);
    }
    assert!(checked > 500, "too few mutated documents stayed valid ({checked})");
}

#[test]
fn truncated_and_mutated_messages_never_panic() {
    let patterns = [
        "{ $.objectList[*].id > 1 || $.arrayKey[1] = %val% }",
        "{ $.* = * }",
        "{ $.user.email = \"*example.com\" && $.coordinates[1][2] >= 6 }",
        "[a, b = \"x\", ..., c > 3, d]",
        "[..., x = %[0-9]+%, ...]",
        "[w1, w2]",
        "%^.{2,}$%",
    ];
    let patterns: Vec<FilterPattern> = patterns.iter().map(|p| FilterPattern::parse(p).unwrap()).collect();
    let messages =
        [DOCS[0], DOCS[1], r#"127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /a.html HTTP/1.0" 200 15"#, "a \"b [c\" d] \\\" e"];
    for message in messages {
        for end in 0..=message.len() {
            let bytes = &message.as_bytes()[..end];
            for p in &patterns {
                let _ = p.matches(bytes);
                let _ = p.extract(bytes).map(|f| f.iter().count());
            }
        }
    }
    let mut rng = Rng(0x1357_9bdf_2468_ace0);
    for _ in 0..5_000 {
        let mut bytes = messages[rng.below(messages.len())].as_bytes().to_vec();
        let at = rng.below(bytes.len());
        bytes[at] = [0xff, 0x80, b'"', b'[', b']', b'\\', 0][rng.below(7)];
        for p in &patterns {
            let _ = p.matches(&bytes);
        }
    }
}

#[test]
fn mutated_patterns_never_panic() {
    let seeds = [
        "{ ($.user.id = 1) && ($.users[0].email = \"John.Doe@example.com\") }",
        "{ $.['cluster.name'] = \"c\" || $.arrayKey[*] = %val.{2}% }",
        "{ $.SomeObject IS NULL && $.x NOT EXISTS }",
        r"[ip=%127\.0\.0\.[1-9]%, user, username, timestamp, request =*.html*, status_code = 404 || status_code = 410, bytes]",
        "[..., request=*.html*, status_code=4*,]",
        r"%^starting|^init[a-z]{2,5}\d\x3A%",
        "?ERROR ?WARN -\"exit code\"",
    ];
    let inserts =
        ["{", "}", "[", "]", "(", ")", "%", "\"", "\\", ",", "...", "&&", "||", "$", ".", "*", "é", "日", " ", "=", "!", "<", "'"];
    let mut rng = Rng(0xdead_beef_cafe_f00d);
    for _ in 0..20_000 {
        let seed = seeds[rng.below(seeds.len())];
        let chars: Vec<char> = seed.chars().collect();
        let at = rng.below(chars.len() + 1);
        let cut = at + rng.below(3).min(chars.len() - at);
        let text: String =
            chars[..at].iter().collect::<String>() + inserts[rng.below(inserts.len())] + &chars[cut..].iter().collect::<String>();
        if let Ok(p) = FilterPattern::parse(&text) {
            let _ = p.matches(DOCS[0].as_bytes());
            let _ = p.matches(b"127.0.0.1 - frank [x] \"GET /\" 404 12");
        }
    }
}
