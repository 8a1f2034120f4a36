//! Filter patterns of every form, table-driven, against AWS's documentation.
//!
//! Each case cites the part of "Filter pattern syntax for metric filters, subscription
//! filters, filter log events, and Live Tail" (CloudWatch Logs User Guide,
//! FilterAndPatternSyntax.html) it checks: `[regex]`, `[unstructured]`, `[json]` and
//! `[delimited]` name the page's sections, followed by the example or statement. `(2021)`
//! marks statements of the page's earlier edition (the awsdocs GitHub copy) that the
//! current one dropped but AWS still behaves by. Messages are the page's own example
//! events, written on one line as the page asks ("you must enter the example JSON log on
//! a single line"). Cases marked `[choice]` pin down behaviour the page leaves open; the
//! choice is explained in the module that makes it.

use query::{FieldRef, FieldValue, FilterPattern, PatternErrorKind};

// --- The page's example events --------------------------------------------------------

/// [unstructured] example events.
const E400: &str = "[ERROR 400] BAD REQUEST";
const E401: &str = "[ERROR 401] UNAUTHORIZED REQUEST";
const E419: &str = "[ERROR 419] MISSING ARGUMENTS";
const E420: &str = "[ERROR 420] INVALID ARGUMENTS";
const E500: &str = "[ERROR 500] INTERNAL SERVER ERROR";
const S200: &str = "[SUCCESS 200] AUTHORIZED REQUEST";

/// [json] "JSON log event".
const JSON_EVENT: &str = r#"{"eventType": "UpdateTrail", "sourceIPAddress": "111.111.111.111", "arrayKey": ["value", "another value"], "objectList": [{"name": "a", "id": 1}, {"name": "b", "id": 2}], "SomeObject": null, "cluster.name": "c"}"#;
/// (2021) [json] example event, which had `ThisFlag` instead of `cluster.name`.
const JSON_EVENT_2021: &str = r#"{"eventType": "UpdateTrail", "sourceIPAddress": "111.111.111.111", "arrayKey": ["value", "another value"], "objectList": [{"name": "a", "id": 1}, {"name": "b", "id": 2}], "SomeObject": null, "ThisFlag": true}"#;
/// [json] "JSON object" of the compound-expression examples.
const JSON_OBJECT: &str = r#"{"user": {"id": 1, "email": "John.Stiles@example.com"}, "users": [{"id": 2, "email": "John.Doe@example.com"}, {"id": 3, "email": "Jane.Doe@example.com"}], "actions": ["GET", "PUT", "DELETE"], "coordinates": [[0, 1, 2], [4, 5, 6], [7, 8, 9]]}"#;
/// (2021) [json] "JSON Special Considerations" event.
const USERS_ARRAY: &str = r#"{"users": [1, 2, 3]}"#;

/// [delimited] "Example: Space-delimited log event".
const APACHE: &str = r#"127.0.0.1 Prod frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 404 1534"#;
/// (2021) [delimited] the three example lines.
const APACHE_200: &str = r#"127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /apache_pb.gif HTTP/1.0" 200 1534"#;
const APACHE_500: &str = r#"127.0.0.1 - frank [10/Oct/2000:13:35:22 -0700] "GET /apache_pb.gif HTTP/1.0" 500 5324"#;
const APACHE_4355: &str = r#"127.0.0.1 - frank [10/Oct/2000:13:50:35 -0700] "GET /apache_pb.gif HTTP/1.0" 200 4355"#;
/// [delimited] "Space-delimited log event" of the pattern-matching examples.
const SVC_GET: &str = "INFO 09/25/2014 12:00:00 GET /service/resource/67 1200";
const SVC_POST: &str = "INFO 09/25/2014 12:00:01 POST /service/resource/67/part/111 1310";
const SVC_WARN: &str = "WARNING 09/25/2014 12:00:02 Invalid user request";
const SVC_ERROR: &str = "ERROR 09/25/2014 12:00:02 Failed to process request";
/// (2021) "OR Pattern Matching" example events.
const OR_1: &str = "ERROR WARN message";
const OR_2: &str = "ERROR message";
const OR_3: &str = "WARN message";

/// One row: pattern, message, whether it matches, and the documentation it checks.
struct Case {
    pattern: &'static str,
    message: &'static str,
    matches: bool,
    doc: &'static str,
}

const fn case(pattern: &'static str, message: &'static str, matches: bool, doc: &'static str) -> Case {
    Case { pattern, message, matches, doc }
}

const CASES: &[Case] = &[
    // --- Regex ------------------------------------------------------------------------
    case("%AUTHORIZED%", E401, true, "[regex] %AUTHORIZED% returns [ERROR 401] UNAUTHORIZED REQUEST"),
    case("%AUTHORIZED%", S200, true, "[regex] %AUTHORIZED% returns [SUCCESS 200] AUTHORIZED REQUEST"),
    case("%AUTHORIZED%", E400, false, "[regex] %AUTHORIZED% returns events containing the keyword only"),
    case("%authorized%", S200, false, "[unstructured] Filter patterns are case sensitive"),
    case("%^[hc]at%", "hat", true, "[regex] ^: %^[hc]at% matches \"hat\""),
    case("%^[hc]at%", "cat food", true, "[regex] ^: %^[hc]at% matches \"cat\" at the beginning"),
    case("%^[hc]at%", "that", false, "[regex] ^: only at the beginning of a string"),
    case("%[hc]at$%", "the cat", true, "[regex] $: %[hc]at$% matches \"cat\" at the end"),
    case("%[hc]at$%", "cats", false, "[regex] $: only at the end of a string"),
    case("%colou?r%", "color", true, "[regex] ?: %colou?r% matches \"color\""),
    case("%colou?r%", "colour", true, "[regex] ?: %colou?r% matches \"colour\""),
    case("%colou?r%", "colouur", false, "[regex] ?: zero or one occurrence"),
    case("%[abc]%", "b", true, "[regex] []: %[abc]% matches \"a\", \"b\", or \"c\""),
    case("%[abc]%", "xyz", false, "[regex] []: %[abc]% matches only the listed characters"),
    case("%[a-z]%", "Q9q", true, "[regex] []: %[a-z]% matches any lowercase letter"),
    case("%[a-z]%", "Q9", false, "[regex] []: %[a-z]% matches only lowercase letters"),
    case("%[abcx-z]%", "y", true, "[regex] []: %[abcx-z]% matches \"x\", \"y\", or \"z\""),
    case("%[abcx-z]%", "w", false, "[regex] []: %[abcx-z]% does not match \"w\""),
    case("%a{3,5}%", "aaaa", true, "[regex] {m, n}: %a{3,5}% matches \"aaaa\""),
    case("%a{3,5}%", "aa", false, "[regex] {m, n}: at least m times"),
    case("%^a{,2}b%", "aab", true, "[regex] {m, n}: either m or n can be omitted"),
    case("%^a{2,}b%", "ab", false, "[regex] {m, n}: either m or n can be omitted"),
    case("%gra|ey%", "gray", true, "[regex] |: %gra|ey% can match \"gray\""),
    case("%gra|ey%", "grey", true, "[regex] |: %gra|ey% can match \"grey\""),
    case("%gra|ey%", "grid", false, "[regex] |: matches the term on either side"),
    case("%^starting|^initializing|^shutting down%", "starting server", true, "[regex] |: can match \"starting ...\""),
    case("%^starting|^initializing|^shutting down%", "initializing cache", true, "[regex] |: can match \"initializing ...\""),
    case("%^starting|^initializing|^shutting down%", "shutting down", true, "[regex] |: can match \"shutting down\""),
    case(
        "%^starting|^initializing|^shutting down%",
        "skipping initializing cache",
        false,
        "[regex] |: won't match \"skipping initializing ...\"",
    ),
    case("%abcc|ab[^c]$%", "abcc d", true, "[regex] |: can match \"abcc ...\""),
    case("%abcc|ab[^c]$%", "aba", true, "[regex] |: can match \"aba\""),
    case("%abcc|ab[^c]$%", "aac d", false, "[regex] |: won't match \"aac ...\""),
    case(r"%\[.\]%", "[a]", true, r"[regex] \: %\[.\]% matches [a]"),
    case(r"%\[.\]%", "x []] y", true, r"[regex] \: %\[.\]% matches []]"),
    case(r"%\[.\]%", "[ ]", true, r"[regex] \: %\[.\]% matches [ ]"),
    case(r"%\[.\]%", "[ab]", false, r"[regex] \: any single character between brackets"),
    case(r"%10\.10\.0\.1%", "from 10.10.0.1", true, r"[regex] \: %10\.10\.0\.1% matches the IP address 10.10.0.1"),
    case(r"%10\.10\.0\.1%", "10010,051", false, r"[regex] \: escaped dots are literal"),
    case("%10.10.0.1%", "10010,051", true, "[regex] .: %10.10.0.1% can match \"10010,051\""),
    case("%ab*c%", "ac", true, "[regex] *: %ab*c% can match \"ac\""),
    case("%ab*c%", "abbbc", true, "[regex] *: %ab*c% can match \"abbbc\""),
    case("%ab[0-9]*%", "ab129", true, "[regex] *: %ab[0-9]*% can match \"ab129\""),
    case("%ab+c%", "abbc", true, "[regex] +: %ab+c% can match \"abbc\""),
    case("%ab+c%", "ac", false, "[regex] +: %ab+c% does not match \"ac\""),
    case("%.at%", "#at", true, "[regex] .: %.at% matches \"#at\""),
    case("%.at%", " at", true, "[regex] .: %.at% matches \" at\""),
    case("%.at%", "at", false, "[regex] .: one character before \"at\""),
    case(r"%\d%", "code 7", true, r"[regex] \d: %\d% is %[0-9]%"),
    case(r"%\d%", "no digits", false, r"[regex] \d: %\d% is %[0-9]%"),
    case(r"%\D%", "123", false, r"[regex] \D: %\D% is %[^0-9]%"),
    case(r"%\s%", "a\tb", true, r"[regex] \s: whitespace includes the tab"),
    case(r"%\s%", "ab", false, r"[regex] \s: whitespace characters only"),
    case(r"%\S%", " \t ", false, r"[regex] \S: the inverse of \s"),
    case(r"%\w%", "_", true, r"[regex] \w: %\w% is %[a-zA-Z_0-9]%"),
    case(r"%\W%", "abc_1", false, r"[regex] \W: %\W% is %[^a-zA-Z_0-9]%"),
    case(r"%\W%", "a-b", true, r"[regex] \W: %\W% is %[^a-zA-Z_0-9]%"),
    case(r"%\x3A%", "key: value", true, r"[regex] \xhh: %\x3A% matches :"),
    case(r"%\x28%", "f(x)", true, r"[regex] \xhh: %\x28% matches ("),
    case(r"%\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}%", "client 192.168.4.20 connected", true, "[regex] intro: match any IP address format"),
    case("%[Ee]rror|[Ff]ail%", "Error: disk full", true, "[regex] intro: catch \"Error\"/\"error\""),
    case("%[Ee]rror|[Ff]ail%", "job fail", true, "[regex] intro: catch \"Fail\"/\"fail\""),
    case("%[Ee]rror|[Ff]ail%", "ERROR", false, "[regex] intro: case sensitive alternatives"),
    // --- Unstructured -------------------------------------------------------------------
    case("ERROR", E400, true, "[unstructured] Match a single term"),
    case("ERROR", S200, false, "[unstructured] Match a single term"),
    case("ERROR ARGUMENTS", E419, true, "[unstructured] Match multiple terms"),
    case("ERROR ARGUMENTS", E401, false, "[unstructured] doesn't return events without both terms"),
    case("?ERROR ?ARGUMENTS", E420, true, "[unstructured] Match optional terms"),
    case("?ERROR ?ARGUMENTS", S200, false, "[unstructured] Match optional terms"),
    case("?ERROR ?ARGUMENTS REQUEST", "[INFO] REQUEST FAILED", true, "[unstructured] question mark terms are ignored when combined"),
    case("?ERROR ?ARGUMENTS REQUEST", E419, false, "[unstructured] question mark terms are ignored when combined"),
    case("\"INTERNAL SERVER ERROR\"", E500, true, "[unstructured] Match exact phrases"),
    case("\"INTERNAL SERVER ERROR\"", "INTERNAL ERROR SERVER", false, "[unstructured] Match exact phrases"),
    case("ERROR -ARGUMENTS", E401, true, "[unstructured] Include and exclude terms"),
    case("ERROR -ARGUMENTS", E420, false, "[unstructured] Include and exclude terms"),
    case("\" \"", "anything", true, "[unstructured] Match everything"),
    case("ERROR", "Exiting with ERRORCODE: -1", true, "(2021) [unstructured] \"ERROR\" matches Exiting with ERRORCODE: -1"),
    case("\"ERROR\" - \"Exiting\"", "Exiting with ERRORCODE: -1", false, "(2021) [unstructured] \"ERROR\" - \"Exiting\" excludes it"),
    // --- JSON: the example event ----------------------------------------------------------
    case("{ $.eventType = \"UpdateTrail\" }", JSON_EVENT, true, "[json] Filter pattern that matches string values"),
    case("{ $.eventType = \"CreateTrail\" }", JSON_EVENT, false, "[json] Filter pattern that matches string values"),
    case("{ $.eventType = UpdateTrail }", JSON_EVENT, true, "[json] You can enclose strings in double quotation marks (optional)"),
    case("{ $.eventType = \"updatetrail\" }", JSON_EVENT, false, "[unstructured] Filter patterns are case sensitive"),
    case("{ $.eventType = \"Update\" }", JSON_EVENT, false, "(2021) [json] The items in the JSON log event data must exactly match"),
    case(
        "{ $.sourceIPAddress != 123.123.* }",
        JSON_EVENT,
        true,
        "[json] matches (IP address) because it doesn't contain the prefix 123.123.",
    ),
    case("{ $.sourceIPAddress != 123.123.* }", r#"{"sourceIPAddress": "123.123.9.9"}"#, false, "[json] != with a wildcard prefix"),
    case("{ $.sourceIPAddress = 111.111.* }", JSON_EVENT, true, "[json] Use the asterisk as a wild card to match text"),
    case("{ $.arrayKey[0] = \"value\" }", JSON_EVENT, true, "[json] matches a specific array element with a string value"),
    case("{ $.arrayKey[1] = \"value\" }", JSON_EVENT, false, "[json] elements follow a zero-based numbering system"),
    case("{ $.arrayKey[1] = \"another value\" }", JSON_EVENT, true, "[json] the second element is element 1"),
    case("{ $.eventType[0] = \"value\" }", JSON_EVENT, false, "(2021) [json] If arrayKey is not an array this will be false"),
    case("{ $.eventType = %Trail% }", JSON_EVENT, true, "[json] Filter pattern that matches a string using regex"),
    case("{ $.eventType = %^Trail% }", JSON_EVENT, false, "[json] regex values use the regex syntax (^ anchors)"),
    case("{ $.arrayKey[*] = %val.{2}% }", JSON_EVENT, true, "[json] wildcard to match values of any element in the array using regex"),
    case("{ $.arrayKey[*] = \"another value\" }", JSON_EVENT, true, "[json] Wildcard selector: any array element"),
    case("{ $.arrayKey[*] = \"third\" }", JSON_EVENT, false, "[json] Wildcard selector: any array element"),
    case(
        r"{ $.* = %111\.111\.111\.1[0-9]{1,2}% }",
        JSON_EVENT,
        true,
        "[json] wildcard matching any element with a prefix and subnet using regex",
    ),
    case(r"{ $.* = %222\.% }", JSON_EVENT, false, "[json] Wildcard selector: any JSON object field"),
    case("{ $.objectList[*].name = \"b\" }", JSON_EVENT, true, "[json] Wildcard selector: any array element, then a property"),
    case("{ $.['cluster.name'] = \"c\" }", JSON_EVENT, true, "[json] matches a JSON property with a period (.) in the key"),
    case("{ $.cluster.name = \"c\" }", JSON_EVENT, false, "[json] a period separates properties unless bracketed"),
    case("{ $.SomeObject IS NULL }", JSON_EVENT, true, "[json] Filter pattern that matches JSON logs using IS (NULL)"),
    case("{ $.eventType IS NULL }", JSON_EVENT, false, "[json] IS NULL: only when the value is null"),
    case("{ $.SomeOtherObject IS NULL }", JSON_EVENT, false, "(2021) [json] IS NULL: only true if the object is set to null"),
    case("{ $.SomeOtherObject NOT EXISTS }", JSON_EVENT, true, "[json] Filter pattern that matches JSON logs using NOT EXISTS"),
    case("{ $.SomeObject NOT EXISTS }", JSON_EVENT, false, "[json] NOT EXISTS: a null field exists"),
    case("{ $.objectList[1].id NOT EXISTS }", JSON_EVENT, false, "[json] NOT EXISTS with array selectors"),
    case("{ $.objectList[7].id NOT EXISTS }", JSON_EVENT, true, "[json] NOT EXISTS: an element past the end does not exist"),
    case("{ $.objectList[1].id = 2 }", JSON_EVENT_2021, true, "(2021) [json] { $.objectList[1].id = 2 }"),
    case("{ $.objectList[0].id = 2 }", JSON_EVENT_2021, false, "(2021) [json] the second entry, not the first"),
    case("{ $.arrayKey[0].id = 2 }", JSON_EVENT_2021, false, "(2021) [json] If the items are not objects this will be false"),
    case("{ $.ThisFlag IS TRUE }", JSON_EVENT_2021, true, "(2021) [json] { $.ThisFlag IS TRUE }"),
    case("{ $.ThisFlag IS FALSE }", JSON_EVENT_2021, false, "(2021) [json] IS FALSE checks for the FALSE value"),
    case(
        "{ $.ThisFlag IS FALSE }",
        r#"{"ThisFlag": false}"#,
        true,
        "(2021) [json] This also works for boolean filters which check for FALSE",
    ),
    case("{ $.eventType IS TRUE }", JSON_EVENT_2021, false, "[json] IS TRUE matches only the value true"),
    case("{ $.objectList = 1 }", JSON_EVENT, false, "[json] If a property selector points to an array or object, the pattern won't match"),
    case("{ $.objectList != 1 }", JSON_EVENT, false, "[json] If a property selector points to an array or object, the pattern won't match"),
    case("{ $.users = 1 }", USERS_ARRAY, false, "(2021) [json] both {$.users = 1} and {$.users != 1} fail on an array"),
    case("{ $.users != 1 }", USERS_ARRAY, false, "(2021) [json] both {$.users = 1} and {$.users != 1} fail on an array"),
    case(
        "{ $.eventType = \"UpdateTrail\" }",
        "eventType UpdateTrail",
        false,
        "[json] Use JSON filter patterns when logs are structured in JSON",
    ),
    case("{ $.eventType = \"UpdateTrail\" }", r#"{"eventType": "UpdateTrail""#, false, "[json] only a JSON log event can match"),
    case("{ $.eventType = \"UpdateTrail\" }", r#"[{"eventType": "UpdateTrail"}]"#, false, "[json] selectors start at the root object ($.)"),
    case(
        "{ $.eventType = \"UpdateTrail\" }",
        "  {\"eventType\":\"UpdateTrail\"}\n",
        true,
        "[json] the example log on a single line (surrounding whitespace)",
    ),
    // --- JSON: numbers ----------------------------------------------------------------------
    case("{ $.bandwidth > 75 }", r#"{"bandwidth": 80}"#, true, "[json] Filter pattern with greater than symbol"),
    case("{ $.bandwidth > 75 }", r#"{"bandwidth": 75}"#, false, "[json] Filter pattern with greater than symbol"),
    case("{ $.latency < 50 }", r#"{"latency": 49.9}"#, true, "[json] Filter pattern with less than symbol"),
    case("{ $.latency < 50 }", r#"{"latency": 50}"#, false, "[json] Filter pattern with less than symbol"),
    case("{ $.refreshRate >= 60 }", r#"{"refreshRate": 60}"#, true, "[json] Filter pattern with greater than or equal to symbol"),
    case("{ $.refreshRate >= 60 }", r#"{"refreshRate": 59}"#, false, "[json] Filter pattern with greater than or equal to symbol"),
    case("{ $.responseTime <= 5 }", r#"{"responseTime": 5}"#, true, "[json] Filter pattern with less than or equal to symbol"),
    case("{ $.responseTime <= 5 }", r#"{"responseTime": 5.01}"#, false, "[json] Filter pattern with less than or equal to symbol"),
    case("{ $.errorCode = 400}", r#"{"errorCode": 400}"#, true, "[json] Filter pattern with equal sign"),
    case("{ $.errorCode = 400}", r#"{"errorCode": 4e2}"#, true, "[json] numeric comparisons compare values, not text"),
    case("{ $.errorCode = 400}", r#"{"errorCode": 404}"#, false, "[json] Filter pattern with equal sign"),
    case("{ $.errorCode != 500 }", r#"{"errorCode": 400}"#, true, "[json] Filter pattern with not equal sign"),
    case("{ $.errorCode != 500 }", r#"{"errorCode": 500}"#, false, "[json] Filter pattern with not equal sign"),
    case("{ $.number[0] = 1e+3 }", r#"{"number": [1000]}"#, true, "[json] Filter pattern with scientific notation and plus symbol"),
    case("{ $.number[0] != 1e-3 }", r#"{"number": [0.001]}"#, false, "[json] Filter pattern with scientific notation and minus symbol"),
    case("{ $.number[0] != 1e-3 }", r#"{"number": [1]}"#, true, "[json] Filter pattern with scientific notation and minus symbol"),
    case("{ $.latency >= 500 }", r#"{"latency": 731}"#, true, "(2021) [json] Numeric Comparisons: { $.latency >= 500 }"),
    case("{ $.numbers[0] < 10e3 }", r#"{"numbers": [9999]}"#, true, "(2021) [json] Numeric Comparisons: { $.numbers[0] < 10e3 }"),
    case("{ $.numbers[0] < 10e-3 }", r#"{"numbers": [0.01]}"#, false, "(2021) [json] Numeric Comparisons: { $.numbers[0] < 10e-3 }"),
    case(
        "{ $.processes[4].averageRuntime <= 55.5 }",
        r#"{"processes": [{}, {}, {}, {}, {"averageRuntime": 55.5}]}"#,
        true,
        "(2021) [json] Numeric Comparisons: { $.processes[4].averageRuntime <= 55.5 }",
    ),
    case("{ $.latency > +1000 }", r#"{"latency": 1000.5}"#, true, "(2021) [json] Numeric Comparisons: { $.latency > +1000 }"),
    case("{ $.latency > -1 }", r#"{"latency": -0.5}"#, true, "[json] integers that contain plus or minus symbols"),
    case("{ $.latency > 1000 }", r#"{"latency": "fast"}"#, false, "[json] numeric operators compare numbers"),
    case(
        "{ $.latency = * }",
        r#"{"latency": 50, "requestType": "GET"}"#,
        true,
        "[json] Use the asterisk as a wild card to match numbers ({ $.latency = * })",
    ),
    case("{ $.latency = * }", r#"{"requestType": "GET"}"#, false, "[json] a wildcard still needs the property"),
    case("{ $.errorCode = 4* }", r#"{"errorCode": 404}"#, true, "[json] Use the asterisk as a wild card to match numbers"),
    case("{ $.errorCode = 4* }", r#"{"errorCode": 504}"#, false, "[json] Use the asterisk as a wild card to match numbers"),
    // --- JSON: compound expressions ----------------------------------------------------------
    case(
        "{ ($.user.id = 1) && ($.users[0].email = \"John.Doe@example.com\") }",
        JSON_OBJECT,
        true,
        "[json] Expression that matches using AND (&&)",
    ),
    case(
        "{ $.user.email = \"John.Stiles@example.com\" || $.coordinates[0][1] = \"nonmatch\" && $.actions[2] = \"nonmatch\" }",
        JSON_OBJECT,
        true,
        "[json] Expression that matches using OR (||)",
    ),
    case(
        "{ ($.user.email = \"John.Stiles@example.com\" || $.coordinates[0][1] = \"nonmatch\") && $.actions[2] = \"nonmatch\" }",
        JSON_OBJECT,
        false,
        "[json] Expression that doesn't match using AND (&&)",
    ),
    case(
        "{ ($.user.id = 2 && $.users[0].email = \"nonmatch\") || $.actions[2] = \"GET\" }",
        JSON_OBJECT,
        false,
        "[json] Expression that doesn't match using OR (||)",
    ),
    case(
        "{ $.user.email = \"John.Stiles@example.com\" || $.coordinates[0][1] = nonmatch && $.actions[2] = nomatch }",
        JSON_OBJECT,
        true,
        "(2021) [json] compound example with unquoted strings",
    ),
    case("{ $.coordinates[0][1] = 1 }", JSON_OBJECT, true, "(2021) [json] nested array selectors ($.coordinates[0][1])"),
    case("{ $.coordinates[2][2] = 9 }", JSON_OBJECT, true, "[json] nested array selectors"),
    case("{ $.users[1].email = \"Jane.Doe@example.com\" }", JSON_OBJECT, true, "[json] $.users[0].id-style selectors"),
    case("{ $.actions[*] = \"DELETE\" && $.user.id = 1 }", JSON_OBJECT, true, "[json] wildcard selectors in compound expressions"),
    case("{$.foo = bar}", r#"{"foo": "bar"}"#, true, "(2021) [json] OR Pattern Matching: {$.foo = bar} matches pattern 1"),
    case("{$.foo = bar}", r#"{"foo": "baz"}"#, false, "(2021) [json] OR Pattern Matching: {$.foo = bar} matches pattern 1 only"),
    case("{$.foo = baz }", r#"{"foo": "baz"}"#, true, "(2021) [json] OR Pattern Matching: {$.foo = baz } matches pattern 2"),
    case("{$.foo = bar || $.foo = baz }", r#"{"foo": "bar"}"#, true, "(2021) [json] OR Pattern Matching: matches pattern 1 and 2"),
    case("{$.foo = bar || $.foo = baz }", r#"{"foo": "baz"}"#, true, "(2021) [json] OR Pattern Matching: matches pattern 1 and 2"),
    case("{$.foo = bar || $.foo = baz }", r#"{"foo": "qux"}"#, false, "(2021) [json] OR Pattern Matching"),
    // --- JSON: string wildcards (2021 wording) ------------------------------------------------
    case("{ $.eventName = *Event }", r#"{"eventName": "PutEvent"}"#, true, "(2021) [json] *Event will match PutEvent"),
    case("{ $.eventName = *Event }", r#"{"eventName": "GetEvent"}"#, true, "(2021) [json] *Event will match GetEvent"),
    case("{ $.eventName = Event* }", r#"{"eventName": "EventId"}"#, true, "(2021) [json] Event* will match EventId"),
    case("{ $.eventName = Event* }", r#"{"eventName": "PutEvent"}"#, false, "(2021) [json] Event* matches text after the term"),
    case("{ $.eventName = Ev*ent }", r#"{"eventName": "Event"}"#, false, "(2021) [json] Ev*ent will only match the actual string Ev*ent"),
    case("{ $.eventName = Ev*ent }", r#"{"eventName": "Ev*ent"}"#, true, "(2021) [json] Ev*ent will only match the actual string Ev*ent"),
    case(
        "{ $.email = \"John.Stiles@example.com\" }",
        r#"{"email": "John.Stiles@example.com"}"#,
        true,
        "(2021) [json] strings with @ must be enclosed in double quotes",
    ),
    case(
        "{ $.name = \"caf\u{e9}\" }",
        r#"{"name": "caf\u00e9"}"#,
        true,
        "(2021) [json] strings with unicode must be quoted (escapes are decoded)",
    ),
    // --- Space-delimited ------------------------------------------------------------------------
    case(
        r"[ip=%127\.0\.0\.[1-9]%, user, username, timestamp, request =*.html*, status_code = 4*, bytes]",
        APACHE,
        true,
        "[delimited] The following filter pattern parses seven fields",
    ),
    case(
        r"[ip=%127\.0\.0\.[1-9]%, user, username, timestamp, request =*.html*, status_code = 4*, bytes]",
        r#"10.0.0.1 Prod frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 404 1534"#,
        false,
        "[delimited] ip uses regex that matches the range 127.0.0.1 - 127.0.0.9",
    ),
    case(
        r"[ip=%127\.0\.0\.[1-9]%, user, username, timestamp, request =*.html*, status_code = 4*, bytes]",
        r#"127.0.0.1 Prod frank [10/Oct/2000:13:25:15 -0700] "GET /index.php HTTP/1.0" 404 1534"#,
        false,
        "[delimited] request must extract a value with .html",
    ),
    case(
        r"[ip=%127\.0\.0\.[1-9]%, user, username, timestamp, request =*.html*, status_code = 4*, bytes]",
        r#"127.0.0.1 Prod frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 500 1534"#,
        false,
        "[delimited] status_code must extract a value beginning with 4",
    ),
    case("[..., request =*.html*, status_code = 4*, bytes]", APACHE, true, "[delimited] ellipsis represents the first four unnamed fields"),
    case(
        "[..., request =*.html*, status_code = 4*, bytes]",
        "GET /index.html 404 1534 extra",
        false,
        "[delimited] ellipsis: the named fields are the last three",
    ),
    case(
        "[..., request =*.html*, status_code = 4*, bytes]",
        "/index.html 404 1534",
        true,
        "[delimited] Elipsis can reference as many fields as needed (none)",
    ),
    case(
        "[ip, user, username, timestamp, request =*.html*, status_code = 404 || status_code = 410, bytes]",
        APACHE,
        true,
        "[delimited] status_code must be 404 or 410",
    ),
    case(
        "[ip, user, username, timestamp, request =*.html*, status_code = 404 || status_code = 410, bytes]",
        r#"127.0.0.1 Prod frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 410 0"#,
        true,
        "[delimited] status_code must be 404 or 410",
    ),
    case(
        "[ip, user, username, timestamp, request =*.html*, status_code = 404 || status_code = 410, bytes]",
        r#"127.0.0.1 Prod frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 403 0"#,
        false,
        "[delimited] status_code must be 404 or 410",
    ),
    case(
        "[ip, user, username, timestamp, request, status_code, bytes]",
        APACHE,
        true,
        "[delimited] Characters between brackets and double quotation marks are single fields",
    ),
    case(
        "[ip, user, username, timestamp, request, status_code, bytes, extra]",
        APACHE,
        false,
        "[delimited] seven fields: a message with fewer fields than the pattern",
    ),
    case("[w1=ERROR, w2]", SVC_ERROR, true, "[delimited] Match terms in order: [w1=ERROR, w2]"),
    case("[w1=ERROR, w2]", SVC_WARN, false, "[delimited] Match terms in order: the first word is ERROR"),
    case("[w1=ERROR]", SVC_ERROR, false, "[delimited] you must include a blank w2 indicator after the w1 term"),
    case("[w1=ERROR]", "ERROR", true, "[delimited] a one-field pattern is the whole message"),
    case("[w1=ERROR || w1=WARNING, w2]", SVC_WARN, true, "[delimited] Match terms with AND (&&) and OR (||)"),
    case("[w1=ERROR || w1=WARNING, w2]", SVC_ERROR, true, "[delimited] Match terms with AND (&&) and OR (||)"),
    case("[w1=ERROR || w1=WARNING, w2]", SVC_GET, false, "[delimited] Match terms with AND (&&) and OR (||)"),
    case("[w1!=ERROR && w1!=WARNING, w2]", SVC_GET, true, "[delimited] Exclude terms from matches"),
    case("[w1!=ERROR && w1!=WARNING, w2]", SVC_ERROR, false, "[delimited] Exclude terms from matches"),
    case("[w1!=ERROR && w1!=WARNING, w2]", SVC_WARN, false, "[delimited] Exclude terms from matches"),
    case(
        "[logLevel, date, time, method, url=%/service/resource/[0-9]+$%, response_time]",
        SVC_GET,
        true,
        "[delimited] Match the top level item in a resource URI",
    ),
    case(
        "[logLevel, date, time, method, url=%/service/resource/[0-9]+$%, response_time]",
        SVC_POST,
        false,
        "[delimited] Match the top level item in a resource URI",
    ),
    case(
        "[logLevel, date, time, method, url=%/service/resource/[0-9]+/part/[0-9]+$%, response_time]",
        SVC_POST,
        true,
        "[delimited] Match the child level item in a resource URI",
    ),
    case(
        "[logLevel, date, time, method, url=%/service/resource/[0-9]+/part/[0-9]+$%, response_time]",
        SVC_GET,
        false,
        "[delimited] Match the child level item in a resource URI",
    ),
    case(
        "[logLevel, date, time, method, url=%/service/resource/[0-9]+$%, response_time]",
        SVC_WARN,
        false,
        "[delimited] Match the top level item in a resource URI",
    ),
    case("[w1=ERROR, w2]", OR_2, true, "(2021) [delimited] OR: [w1=ERROR, w2] matches pattern 2"),
    case("[w1=ERROR, w2]", OR_3, false, "(2021) [delimited] OR: [w1=ERROR, w2] matches pattern 2"),
    case("[w1=ERROR, w2]", OR_1, true, "[delimited] the blank w2 takes the rest of the line (ERROR WARN message)"),
    case("[w1=ERROR || w1=WARN, w2]", OR_3, true, "(2021) [delimited] OR: [w1=ERROR || w1=WARN, w2] matches patterns 2 and 3"),
    case("[w1=ERROR || w1=WARN, w2]", OR_2, true, "(2021) [delimited] OR: [w1=ERROR || w1=WARN, w2] matches patterns 2 and 3"),
    case(
        "[ip, user, username, timestamp, request, status_code, bytes > 1000]",
        APACHE_200,
        true,
        "(2021) [delimited] conditions: bytes > 1000",
    ),
    case(
        "[ip, user, username, timestamp, request, status_code, bytes > 5000]",
        APACHE_4355,
        false,
        "(2021) [delimited] conditions: bytes > 1000",
    ),
    case(
        "[ip, user, username, timestamp, request, status_code = 200, bytes]",
        APACHE_200,
        true,
        "(2021) [delimited] conditions: status_code = 200",
    ),
    case(
        "[ip, user, username, timestamp, request, status_code = 200, bytes]",
        APACHE_500,
        false,
        "(2021) [delimited] conditions: status_code = 200",
    ),
    case(
        "[ip, user, username, timestamp, request, status_code = 4*, bytes]",
        APACHE_200,
        false,
        "(2021) [delimited] conditions: status_code = 4*",
    ),
    case(
        "[ip, user, username, timestamp, request = *html*, status_code = 4*, bytes]",
        APACHE,
        true,
        "(2021) [delimited] conditions: request = *html*",
    ),
    case(
        "[ip, user, username, timestamp, request, status_code = 403 || status_code = 404, bytes]",
        APACHE,
        true,
        "(2021) [delimited] || as a logical OR",
    ),
    case(
        "[ip, user, username, timestamp, request, status_code = 403 || status_code = 404, bytes]",
        APACHE_500,
        false,
        "(2021) [delimited] || as a logical OR",
    ),
    case(
        "[ip, user, username, timestamp, request, status_code = 4* && status_code != 403, bytes]",
        APACHE,
        true,
        "(2021) [delimited] && as a logical AND",
    ),
    case("[..., status_code, bytes]", APACHE_500, true, "(2021) [delimited] ellipsis: [..., status_code, bytes]"),
    case("[ip, user, ..., status_code, bytes]", APACHE_500, true, "(2021) [delimited] ellipsis: [ip, user, ..., status_code, bytes]"),
    case("[ip, user, ...]", APACHE_500, true, "(2021) [delimited] ellipsis: [ip, user, ...]"),
    case("[ip, user, ...]", "127.0.0.1", false, "(2021) [delimited] ellipsis: named fields must still be present"),
    case(
        "[ip, ..., status_code = 5*, bytes > 5000]",
        APACHE_500,
        true,
        "(2021) [delimited] numeric and string conditions after an ellipsis",
    ),
    case(
        "[..., request=*.html*, status_code=4*,]",
        r#"127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 404 1534"#,
        true,
        "(2021) [delimited] Example Filter with an unnamed last field",
    ),
    case("[..., status_code = 4*, ...]", APACHE, true, "[delimited] ellipsis on both sides of a field"),
    case("[..., status_code = 4*, ...]", APACHE_200, false, "[delimited] ellipsis on both sides of a field"),
    case("[...]", "", true, "[delimited] Elipsis can reference as many fields as needed (zero)"),
    case(
        "[ip, user, username, timestamp, request, status_code, bytes >= 1534]",
        APACHE_200,
        true,
        "(2021) [delimited] For numeric fields: >, <, >=, <=, =, and !=",
    ),
    case(
        "[ip, user, username, timestamp, request, status_code, bytes <= 1533]",
        APACHE_200,
        false,
        "(2021) [delimited] For numeric fields: >, <, >=, <=, =, and !=",
    ),
    case(
        "[ip, user, username, timestamp, request, status_code != 200, bytes]",
        APACHE_500,
        true,
        "(2021) [delimited] For string fields, = or != with an asterisk",
    ),
    case(
        "[ip, user, username, timestamp, request = \"GET /apache_pb.gif HTTP/1.0\", status_code, bytes]",
        APACHE_200,
        true,
        "[delimited] quoted values compare with quoted message fields",
    ),
    case(
        "[ip, user, username, timestamp = 10/Oct/2000*, ...]",
        APACHE_200,
        true,
        "[delimited] bracketed message fields compare without their brackets",
    ),
    // --- Choices the page leaves open -----------------------------------------------------------
    case(
        "{ $.recipientAccountId = 123456789012 }",
        r#"{"recipientAccountId": "123456789012"}"#,
        true,
        "[choice] (2021) [json] the recipientAccountId is 123456789012 (a string in CloudTrail)",
    ),
    case("{ $.errorCode = \"400\" }", r#"{"errorCode": 400}"#, true, "[choice] a quoted value compares with a number's text"),
    case("{ $.amount > 10 }", r#"{"amount": "1e3"}"#, false, "[choice] [json] Strings don't support scientific notation"),
    case("{ $.sourceIPAddress != 123.123.* }", r#"{"other": 1}"#, false, "[choice] != on a missing property does not match"),
    case("{ $.SomeObject = * }", JSON_EVENT, false, "[choice] a null satisfies only IS NULL"),
    case("[a, b]", "x  \t y", true, "[choice] runs of spaces and tabs separate one pair of fields"),
];

fn compile(pattern: &str) -> FilterPattern {
    FilterPattern::parse(pattern).unwrap_or_else(|e| panic!("{pattern:?} should parse: {e}"))
}

#[test]
fn the_table_has_at_least_150_cases_all_citing_the_documentation() {
    assert!(CASES.len() >= 150, "only {} cases", CASES.len());
    for c in CASES {
        assert!(c.doc.starts_with('[') || c.doc.starts_with("(2021)"), "{:?} cites {:?}", c.pattern, c.doc);
    }
}

#[test]
fn documented_examples_match_as_documented() {
    let failures: Vec<String> = CASES
        .iter()
        .filter(|c| compile(c.pattern).matches(c.message.as_bytes()) != c.matches)
        .map(|c| format!("{} on {:?} should give {} ({})", c.pattern, c.message, c.matches, c.doc))
        .collect();
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), CASES.len(), failures.join("\n"));
}

#[test]
fn a_required_literal_is_in_every_matching_message() {
    let mut with_literal = 0;
    for c in CASES.iter().filter(|c| c.matches) {
        let Some(literal) = compile(c.pattern).required_literal().map(<[u8]>::to_vec) else { continue };
        with_literal += 1;
        let found = c.message.as_bytes().windows(literal.len()).any(|w| w == literal.as_slice());
        assert!(found, "{:?} matches {:?} but lacks its required literal {:?}", c.pattern, c.message, String::from_utf8_lossy(&literal));
    }
    assert!(with_literal >= 20, "only {with_literal} matching cases have a required literal");
    assert_eq!(compile("ERROR ?WARN -DEBUG").required_literal(), Some(&b"ERROR"[..]));
    assert_eq!(compile("?ERROR ?WARN").required_literal(), None);
    assert_eq!(compile("%ERROR%").required_literal(), None);
}

#[test]
fn extract_agrees_with_matches_on_every_case() {
    for c in CASES {
        let p = compile(c.pattern);
        assert_eq!(p.extract(c.message.as_bytes()).is_some(), c.matches, "{} on {:?}", c.pattern, c.message);
    }
}

// --- Invalid patterns -------------------------------------------------------------------

/// Pattern, expected kind, and a part of the expected message (the whole message where
/// AWS's own wording is known).
const INVALID: &[(&str, PatternErrorKind, &str)] = &[
    ("{ $.eventType = \"UpdateTrail\"", PatternErrorKind::Unclosed, "If a filter pattern starts with '{' it must end with '}'"),
    ("{", PatternErrorKind::Unclosed, "If a filter pattern starts with '{' it must end with '}'"),
    ("[ip, user", PatternErrorKind::Unclosed, "Invalid filter pattern: a space-delimited pattern that starts with '[' must end with ']'"),
    (
        "%AUTHORIZED",
        PatternErrorKind::Unclosed,
        "Invalid filter pattern: a regular-expression pattern that starts with '%' must end with '%'",
    ),
    ("%", PatternErrorKind::Unclosed, "must end with '%'"),
    ("Status: timeout", PatternErrorKind::InvalidCharacters, "Invalid character(s) in term ':'"),
    ("ERROR %foo%", PatternErrorKind::InvalidCharacters, "Invalid character(s) in term '%'"),
    // [regex] what the supported syntax excludes.
    ("%something!%", PatternErrorKind::InvalidRegex, "the character '!' is not supported"),
    ("%(ab)+%", PatternErrorKind::InvalidRegex, "the ( and ) operators are not supported"),
    ("%caf\u{e9}%", PatternErrorKind::InvalidRegex, "multi-byte characters"),
    ("%%", PatternErrorKind::InvalidRegex, "empty"),
    ("%a\"b%", PatternErrorKind::InvalidRegex, "not supported"),
    (r"%\q%", PatternErrorKind::InvalidRegex, r"the escape \q is not supported"),
    ("%[abc%", PatternErrorKind::InvalidRegex, "not closed"),
    ("%*abc%", PatternErrorKind::InvalidRegex, "Invalid filter pattern: invalid regular expression %*abc%"),
    ("%a{5,3}%", PatternErrorKind::InvalidRegex, "minimum above its maximum"),
    ("{ $.eventType = %Tr(ail)% }", PatternErrorKind::InvalidRegex, "the ( and ) operators are not supported"),
    // [json]
    ("{ }", PatternErrorKind::Syntax, "needs a condition"),
    ("{ eventType = x }", PatternErrorKind::Syntax, "expected a property selector starting with '$.'"),
    ("{ $eventType = x }", PatternErrorKind::InvalidSelector, "selectors start with '$.'"),
    ("{ $.arrayKey[x] = 1 }", PatternErrorKind::InvalidSelector, "invalid property selector"),
    ("{ $.a. = 1 }", PatternErrorKind::InvalidSelector, "invalid property selector"),
    ("{ $.SomeObject IS NOT NULL }", PatternErrorKind::Syntax, "IS NOT is not supported"),
    ("{ $.SomeObject EXISTS }", PatternErrorKind::Syntax, "EXISTS is not supported"),
    ("{ $.SomeObject IS MISSING }", PatternErrorKind::Syntax, "IS must be followed by NULL, TRUE or FALSE"),
    ("{ $.SomeObject NOT NULL }", PatternErrorKind::Syntax, "NOT must be followed by EXISTS"),
    ("{ $.latency > fast }", PatternErrorKind::Syntax, "need a number"),
    ("{ $.latency >= \"5\" }", PatternErrorKind::Syntax, "need a number"),
    ("{ $.email = John.Stiles@example.com }", PatternErrorKind::Syntax, "must be enclosed in double quotes"),
    ("{ $.eventType = }", PatternErrorKind::Syntax, "expected a value"),
    ("{ $.eventType \"UpdateTrail\" }", PatternErrorKind::Syntax, "expected an operator"),
    ("{ ($.a = 1 }", PatternErrorKind::Syntax, "expected ')'"),
    ("{ $.a = 1 && }", PatternErrorKind::Syntax, "expected a property selector"),
    ("{ $.a = 1 $.b = 2 }", PatternErrorKind::Syntax, "expected '&&', '||' or '}'"),
    ("{ $.a = \"open }", PatternErrorKind::Syntax, "unterminated quoted string"),
    ("{ $.a[*].b[*] = 1 }", PatternErrorKind::LimitExceeded, "more than one wildcard"),
    ("{ $.a[*] = 1 || $.b[*] = 1 || $.c[*] = 1 || $.d[*] = 1 }", PatternErrorKind::LimitExceeded, "at most 3 wildcard selectors"),
    ("{ $.a = %a% || $.b = %b% || $.c = %c% }", PatternErrorKind::LimitExceeded, "at most 2 regular expressions"),
    // [delimited]
    ("[]", PatternErrorKind::Syntax, "at least one field"),
    ("[ip, ip]", PatternErrorKind::Syntax, "the field name 'ip' is used twice"),
    (
        "[ip, user, username, timestamp, request, status_code = 4* && bytes > 1000]",
        PatternErrorKind::Syntax,
        "the condition on 'bytes' does not name a field",
    ),
    ("[ip user]", PatternErrorKind::Syntax, "expected an operator"),
    ("[ip = ]", PatternErrorKind::Syntax, "expected a value"),
    ("[= 5, b]", PatternErrorKind::Syntax, "expected a field name"),
    ("[bytes > big]", PatternErrorKind::Syntax, "need a number"),
    ("[a = %a%, b = %b%, c = %c%]", PatternErrorKind::LimitExceeded, "at most 2 regular expressions"),
    ("[user = john@example.com, b]", PatternErrorKind::Syntax, "must be enclosed in double quotes"),
];

#[test]
fn invalid_patterns_are_refused_with_their_messages() {
    let mut failures = Vec::new();
    for &(pattern, kind, expected) in INVALID {
        match FilterPattern::parse(pattern) {
            Ok(_) => failures.push(format!("{pattern:?} was accepted")),
            Err(e) => {
                if e.kind() != kind || !e.message().contains(expected) {
                    failures.push(format!("{pattern:?}: {:?} {:?}, expected {kind:?} containing {expected:?}", e.kind(), e.message()));
                }
                if !(e.message().starts_with("Invalid filter pattern")
                    || e.message().starts_with("Invalid character(s) in term")
                    || e.message().starts_with("If a filter pattern"))
                {
                    failures.push(format!("{pattern:?}: message {:?} does not have AWS's shape", e.message()));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

// --- Extraction for metric filters -------------------------------------------------------

fn text(value: Option<FieldValue<'_>>) -> Option<String> {
    value.map(|v| v.to_text().into_owned())
}

#[test]
fn extracts_json_values_for_metric_value_and_dimensions() {
    // (2021) "Publishing Numerical Values Found in Log Entries": metricFilter
    // `{ $.latency = * }`, metricValue `$.latency`.
    let pattern = compile("{ $.latency = * }");
    let event = br#"{"latency": 50, "requestType": "GET", "nested": {"op": "Put\u0049tem"}, "list": [1]}"#;
    let fields = pattern.extract(event).expect("matches");
    let latency = FieldRef::parse("$.latency").unwrap();
    assert_eq!(fields.get(&latency).and_then(|v| v.as_f64()), Some(50.0));
    // Dimensions may read properties the pattern does not mention.
    assert_eq!(text(fields.lookup("$.requestType")), Some("GET".to_owned()));
    assert_eq!(text(fields.lookup("$.nested.op")), Some("PutItem".to_owned()));
    assert_eq!(fields.lookup("$.list"), None, "arrays are not values");
    assert_eq!(fields.lookup("$.missing"), None);
    assert_eq!(fields.lookup("$latency"), None, "a space-delimited reference reads nothing from JSON");
    assert!(fields.iter().next().is_none());
    assert!(pattern.extract(br#"{"requestType": "GET"}"#).is_none());
}

#[test]
fn extracts_named_and_positional_space_delimited_fields() {
    // (2021) the page's extracted fields for `[..., request=*.html*, status_code=4*,]`.
    let pattern = compile("[..., request=*.html*, status_code=4*,]");
    let line = br#"127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /products/index.html HTTP/1.0" 404 1534"#;
    let fields = pattern.extract(line).expect("matches");
    let all: Vec<(String, String)> = fields.iter().map(|(k, v)| (k.to_owned(), v.to_text().into_owned())).collect();
    let expected = [
        ("$1", "127.0.0.1"),
        ("$2", "-"),
        ("$3", "frank"),
        ("$4", "10/Oct/2000:13:25:15 -0700"),
        ("$request", "GET /products/index.html HTTP/1.0"),
        ("$status_code", "404"),
        ("$7", "1534"),
    ];
    assert_eq!(all, expected.map(|(k, v)| (k.to_owned(), v.to_owned())).to_vec());
    assert_eq!(fields.lookup("$7").and_then(|v| v.as_f64()), Some(1534.0));
    assert_eq!(text(fields.lookup("$status_code")), Some("404".to_owned()));
    assert_eq!(fields.lookup("$.status_code"), None);
}

#[test]
fn metric_value_from_a_named_field() {
    // (2021) ExtractBytesExample-style: metricValue `$bytes`.
    let pattern = compile("[ip, user, username, timestamp, request, status_code, bytes]");
    let fields = pattern.extract(APACHE_500.as_bytes()).expect("matches");
    let bytes = FieldRef::parse("$bytes").unwrap();
    assert_eq!(fields.get(&bytes).and_then(|v| v.as_f64()), Some(5324.0));
    assert_eq!(text(fields.lookup("$request")), Some("GET /apache_pb.gif HTTP/1.0".to_owned()));
}

#[test]
fn the_last_field_extracts_the_rest_of_the_line() {
    let fields = compile("[w1=ERROR, w2]").extract(SVC_ERROR.as_bytes()).expect("matches");
    assert_eq!(text(fields.lookup("$w1")), Some("ERROR".to_owned()));
    assert_eq!(text(fields.lookup("$w2")), Some("09/25/2014 12:00:02 Failed to process request".to_owned()));
    assert_eq!(fields.iter().count(), 2);
}

#[test]
fn terms_and_regex_patterns_extract_nothing_but_match() {
    for pattern in ["ERROR", "%ERROR%", ""] {
        let fields = compile(pattern).extract(E400.as_bytes()).expect("matches");
        assert_eq!(fields.lookup("$1"), None, "{pattern:?}");
        assert_eq!(fields.iter().count(), 0);
    }
    assert!(compile("ERROR").extract(S200.as_bytes()).is_none());
}

#[test]
fn field_references_are_checked() {
    for good in ["$.a", "$.a[0].b", "$.['x.y']", "$bytes", "$7", "$status_code"] {
        assert!(FieldRef::parse(good).is_ok(), "{good}");
    }
    for bad in ["", "$", "bytes", "$.", "$a-b", "$ a", "$.a[", "1"] {
        assert!(FieldRef::parse(bad).is_err(), "{bad}");
    }
    assert!(FieldRef::parse("$.a").unwrap().is_json());
    assert!(!FieldRef::parse("$a").unwrap().is_json());
}

#[test]
fn field_values_convert_for_metrics() {
    assert_eq!(FieldValue::Number("1e3").as_f64(), Some(1000.0));
    assert_eq!(FieldValue::Text("12.5".into()).as_f64(), Some(12.5));
    assert_eq!(FieldValue::Text("-".into()).as_f64(), None);
    assert_eq!(FieldValue::Bool(true).as_f64(), None);
    assert_eq!(FieldValue::Null.to_text(), "null");
    assert_eq!(FieldValue::Bool(false).to_text(), "false");
}

// --- Other properties ----------------------------------------------------------------------

#[test]
fn only_ellipsis_patterns_match_everything() {
    assert!(compile("[...]").matches_everything());
    assert!(compile("[..., ...]").matches_everything());
    for pattern in ["[a, ...]", "{ $.a NOT EXISTS }", "%.%", "[a]"] {
        assert!(!compile(pattern).matches_everything(), "{pattern}");
    }
}

#[test]
fn keywords_and_whitespace_are_flexible() {
    // [json] compound examples write `($.user.id = 1)`; CIS-style patterns drop the spaces.
    let event = br#"{"eventSource":"kms.amazonaws.com","eventName":"DisableKey"}"#;
    assert!(compile("{($.eventSource=kms.amazonaws.com)&&(($.eventName=DisableKey)||($.eventName=ScheduleKeyDeletion))}").matches(event));
    assert!(compile("{\n  $.eventName = \"DisableKey\"\n}").matches(event));
    assert!(compile("{ $.missing not exists }").matches(event));
    assert!(compile("[ w1 = ERROR ,w2 ]").matches(b"ERROR x"));
}

#[test]
fn json_messages_that_are_not_valid_never_match() {
    let pattern = compile("{ $.a NOT EXISTS }");
    for message in ["", "plain text", "{", r#"{"b": 1"#, r#"{"b": 1} trailing"#, r#"{"b": 01}"#, "{\"b\": \"raw\ttab\"}"] {
        assert!(!pattern.matches(message.as_bytes()), "{message:?}");
    }
    assert!(pattern.matches(br#"{"b": 1}"#));
}

#[test]
fn json_escapes_in_values_and_keys_are_decoded() {
    assert!(compile(r#"{ $.msg = "say \"hi\"" }"#).matches(br#"{"msg": "say \"hi\""}"#));
    assert!(compile("{ $.path = \"/a/b\" }").matches(br#"{"path": "\/a\/b"}"#));
    assert!(compile("{ $.key = 1 }").matches(br#"{"k\u0065y": 1}"#));
}

#[test]
fn cloudtrail_cis_patterns() {
    // Realistic CloudTrail alarms (CIS AWS Foundations), built from the documented syntax.
    let root_login = br#"{"eventVersion":"1.08","userIdentity":{"type":"Root","arn":"arn:aws:iam::123456789012:root"},"eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","eventType":"AwsConsoleSignIn","additionalEventData":{"MFAUsed":"No"},"responseElements":{"ConsoleLogin":"Success"}}"#;
    assert!(
        compile(r#"{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }"#)
            .matches(root_login)
    );
    assert!(compile(r#"{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") }"#).matches(root_login));
    assert!(!compile(r#"{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }"#).matches(root_login));
    let denied = br#"{"eventName":"DescribeInstances","errorCode":"Client.UnauthorizedOperation"}"#;
    assert!(compile(r#"{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }"#).matches(denied));
}
