//! Parsing of the three parts of a rule: the variable list, the operator and the
//! action list (plus the small value grammars they use: id ranges, severities …).

use crate::ast::{
    Action, AllowScope, Ctl, Disruptive, EngineMode, IdRange, Operator, Selector, SetVar, SetVarOp,
    Variable, VariableName,
};
use crate::error::{ErrorKind, ParseError, invalid, syntax};

/// Operators the parser accepts (canonical spelling, without `@`).
pub const OPERATORS: &[&str] = &[
    "beginsWith",
    "contains",
    "containsWord",
    "detectSQLi",
    "detectXSS",
    // Palisade's own detector operators (palisade-detect), for the default ruleset and users' rules.
    "detectCmdInjection",
    "detectCRLF",
    "detectDeserialization",
    "detectLDAPi",
    "detectMailInjection",
    "detectNoSQLi",
    "detectPathTraversal",
    "detectPrototypePollution",
    "detectSSRF",
    "detectSSTI",
    "detectXXE",
    "endsWith",
    "eq",
    "ge",
    "gt",
    "ipMatch",
    "ipMatchF",
    "ipMatchFromFile",
    "le",
    "lt",
    "noMatch",
    "pm",
    "pmf",
    "pmFromFile",
    "rx",
    "rxGlobal",
    "streq",
    "strmatch",
    "unconditionalMatch",
    "validateByteRange",
    "validateUrlEncoding",
    "validateUtf8Encoding",
    "verifyCC",
    "verifyCPF",
    "verifySSN",
    "within",
    "validateDTD",
    "validateSchema",
    "geoLookup",
    "rbl",
];

/// Transformations the parser accepts (canonical spelling).
pub const TRANSFORMATIONS: &[&str] = &[
    "base64Decode",
    "base64DecodeExt",
    "base64Encode",
    "cmdLine",
    "compressWhitespace",
    "cssDecode",
    "escapeSeqDecode",
    "hexDecode",
    "hexEncode",
    "htmlEntityDecode",
    "jsDecode",
    "length",
    "lowercase",
    "md5",
    "none",
    "normalisePath",
    "normalizePath",
    "normalisePathWin",
    "normalizePathWin",
    "parityEven7bit",
    "parityOdd7bit",
    "parityZero7bit",
    "removeComments",
    "removeCommentsChar",
    "removeNulls",
    "removeWhitespace",
    "replaceComments",
    "replaceNulls",
    "sha1",
    "sqlHexDecode",
    "trim",
    "trimLeft",
    "trimRight",
    "uppercase",
    "urlDecode",
    "urlDecodeUni",
    "urlEncode",
    "utf8toUnicode",
];

fn canonical(table: &[&'static str], name: &str) -> Option<&'static str> {
    table
        .iter()
        .copied()
        .find(|candidate| candidate.eq_ignore_ascii_case(name))
}

/// Parses a `|`-separated variable list (`ARGS|!ARGS:foo|&TX:x|REQUEST_HEADERS:/^x-/`).
pub(crate) fn parse_variables(text: &str) -> Result<Vec<Variable>, ParseError> {
    let bytes = text.as_bytes();
    let mut variables = Vec::new();
    let mut position = 0;
    while position < bytes.len() {
        while position < bytes.len()
            && (bytes[position] == b'|' || bytes[position].is_ascii_whitespace())
        {
            position += 1;
        }
        if position >= bytes.len() {
            break;
        }
        let mut excluded = false;
        let mut count = false;
        loop {
            match bytes.get(position) {
                Some(b'!') => excluded = true,
                Some(b'&') => count = true,
                _ => break,
            }
            position += 1;
        }
        let name_start = position;
        while position < bytes.len()
            && (bytes[position].is_ascii_alphanumeric() || bytes[position] == b'_')
        {
            position += 1;
        }
        let name_text = &text[name_start..position];
        let name = VariableName::from_name(name_text)
            .ok_or_else(|| ParseError::new(ErrorKind::UnknownVariable(name_text.to_owned())))?;
        let mut selector = None;
        if bytes.get(position) == Some(&b':') {
            position += 1;
            let (parsed, next) = if name == VariableName::Xml {
                // XML takes an XPath expression (`XML:/*`, `XML://@*`), not a `/regex/`.
                let start = position;
                while position < bytes.len()
                    && bytes[position] != b'|'
                    && !bytes[position].is_ascii_whitespace()
                {
                    position += 1;
                }
                (Selector::Key(text[start..position].to_owned()), position)
            } else {
                parse_selector(text, position)?
            };
            selector = Some(parsed);
            position = next;
        } else if bytes.get(position) == Some(&b'.') {
            // `TX.foo` is accepted by ModSecurity as a synonym of `TX:foo`.
            position += 1;
            let start = position;
            while position < bytes.len() && bytes[position] != b'|' {
                position += 1;
            }
            selector = Some(Selector::Key(text[start..position].to_owned()));
        }
        if position < bytes.len()
            && bytes[position] != b'|'
            && !bytes[position].is_ascii_whitespace()
        {
            return Err(syntax(format!(
                "unexpected text in variable list: `{text}`"
            )));
        }
        if selector.is_some() && !name.is_collection() {
            return Err(syntax(format!(
                "variable {} takes no selector",
                name.as_str()
            )));
        }
        variables.push(Variable {
            name,
            selector,
            excluded,
            count,
        });
    }
    if variables.is_empty() {
        return Err(syntax("empty variable list"));
    }
    Ok(variables)
}

/// Parses a selector starting at `start` (after `:`); returns it and the end position.
fn parse_selector(text: &str, start: usize) -> Result<(Selector, usize), ParseError> {
    let bytes = text.as_bytes();
    match bytes.get(start) {
        Some(b'/') => {
            let mut position = start + 1;
            while position < bytes.len() {
                match bytes[position] {
                    b'\\' => position += 2,
                    b'/' => {
                        let pattern = text.get(start + 1..position).unwrap_or_default().to_owned();
                        return Ok((Selector::Regex(pattern), position + 1));
                    }
                    _ => position += 1,
                }
            }
            Err(syntax(format!(
                "unterminated regular expression selector in `{text}`"
            )))
        }
        Some(b'\'') => {
            let end = text[start + 1..]
                .find('\'')
                .ok_or_else(|| syntax(format!("unterminated quoted selector in `{text}`")))?;
            let key = &text[start + 1..start + 1 + end];
            let selector = match key.strip_prefix('/').and_then(|k| k.strip_suffix('/')) {
                Some(pattern) => Selector::Regex(pattern.to_owned()),
                None => Selector::Key(key.to_owned()),
            };
            Ok((selector, start + end + 2))
        }
        _ => {
            let mut position = start;
            while position < bytes.len()
                && bytes[position] != b'|'
                && !bytes[position].is_ascii_whitespace()
            {
                position += 1;
            }
            if position == start {
                return Err(syntax(format!("empty selector in `{text}`")));
            }
            Ok((Selector::Key(text[start..position].to_owned()), position))
        }
    }
}

/// Parses the operator argument (`@rx foo`, `!@eq 0`, or a bare regex meaning `@rx`).
pub(crate) fn parse_operator(text: &str) -> Result<Operator, ParseError> {
    let (negated, rest) = match text.strip_prefix('!') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let Some(rest) = rest.strip_prefix('@') else {
        return Ok(Operator {
            name: "rx".to_owned(),
            argument: rest.to_owned(),
            negated,
        });
    };
    let name_end = rest
        .find(|c: char| c.is_ascii_whitespace())
        .unwrap_or(rest.len());
    let name_text = &rest[..name_end];
    let name = canonical(OPERATORS, name_text)
        .ok_or_else(|| ParseError::new(ErrorKind::UnknownOperator(name_text.to_owned())))?;
    let argument = rest[name_end..].trim_start().to_owned();
    Ok(Operator {
        name: name.to_owned(),
        argument,
        negated,
    })
}

/// Splits an action list on commas outside single quotes into `(name, value)` pairs.
fn split_actions(text: &str) -> Result<Vec<(String, Option<String>)>, ParseError> {
    let bytes = text.as_bytes();
    let mut actions = Vec::new();
    let mut position = 0;
    while position < bytes.len() {
        while position < bytes.len()
            && (bytes[position] == b',' || bytes[position].is_ascii_whitespace())
        {
            position += 1;
        }
        if position >= bytes.len() {
            break;
        }
        let name_start = position;
        while position < bytes.len() && !matches!(bytes[position], b':' | b',') {
            position += 1;
        }
        let name = text[name_start..position].trim().to_owned();
        if bytes.get(position) != Some(&b':') {
            actions.push((name, None));
            continue;
        }
        position += 1;
        while position < bytes.len() && bytes[position] == b' ' {
            position += 1;
        }
        let value = if bytes.get(position) == Some(&b'\'') {
            position += 1;
            let mut value = String::new();
            let mut run_start = position;
            let mut closed = false;
            while position < bytes.len() {
                match bytes[position] {
                    b'\\' if bytes.get(position + 1) == Some(&b'\'') => {
                        value.push_str(&text[run_start..position]);
                        value.push('\'');
                        position += 2;
                        run_start = position;
                    }
                    b'\'' => {
                        closed = true;
                        break;
                    }
                    _ => position += 1,
                }
            }
            if !closed {
                return Err(syntax(format!(
                    "unterminated quoted value of action `{name}`"
                )));
            }
            value.push_str(&text[run_start..position]);
            position += 1;
            value
        } else {
            let start = position;
            while position < bytes.len() && bytes[position] != b',' {
                position += 1;
            }
            text[start..position].trim_end().to_owned()
        };
        actions.push((name, Some(value)));
    }
    Ok(actions)
}

fn require<'a>(name: &str, value: Option<&'a str>) -> Result<&'a str, ParseError> {
    value.ok_or_else(|| syntax(format!("action `{name}` needs a value")))
}

fn number<T: std::str::FromStr>(what: &'static str, value: &str) -> Result<T, ParseError> {
    value.trim().parse().map_err(|_| invalid(what, value))
}

/// Parses `on`/`off`.
pub(crate) fn parse_bool(what: &'static str, value: &str) -> Result<bool, ParseError> {
    if value.eq_ignore_ascii_case("on") || value.eq_ignore_ascii_case("true") {
        Ok(true)
    } else if value.eq_ignore_ascii_case("off") || value.eq_ignore_ascii_case("false") {
        Ok(false)
    } else {
        Err(invalid(what, value))
    }
}

/// Parses `On` / `Off` / `DetectionOnly`.
pub(crate) fn parse_engine_mode(value: &str) -> Result<EngineMode, ParseError> {
    if value.eq_ignore_ascii_case("on") {
        Ok(EngineMode::On)
    } else if value.eq_ignore_ascii_case("off") {
        Ok(EngineMode::Off)
    } else if value.eq_ignore_ascii_case("detectiononly") {
        Ok(EngineMode::DetectionOnly)
    } else {
        Err(invalid("rule engine mode", value))
    }
}

/// Parses id ranges separated by spaces or commas: `1 2-5,9`.
pub(crate) fn parse_id_ranges(text: &str) -> Result<Vec<IdRange>, ParseError> {
    let mut ranges = Vec::new();
    for part in text
        .split(|c: char| c == ',' || c.is_ascii_whitespace())
        .filter(|p| !p.is_empty())
    {
        let range = match part.split_once('-') {
            Some((first, last)) => IdRange {
                first: number("rule id", first)?,
                last: number("rule id", last)?,
            },
            None => {
                let id = number("rule id", part)?;
                IdRange {
                    first: id,
                    last: id,
                }
            }
        };
        if range.first > range.last {
            return Err(invalid("rule id range", part));
        }
        ranges.push(range);
    }
    if ranges.is_empty() {
        return Err(invalid("rule id list", text));
    }
    Ok(ranges)
}

fn parse_phase(value: &str) -> Result<u8, ParseError> {
    let phase = match value.trim().to_ascii_lowercase().as_str() {
        "request" => 2,
        "response" => 4,
        "logging" => 5,
        other => number("phase", other)?,
    };
    if (1..=5).contains(&phase) {
        Ok(phase)
    } else {
        Err(invalid("phase", value))
    }
}

fn parse_severity(value: &str) -> Result<u8, ParseError> {
    const NAMES: [&str; 8] = [
        "EMERGENCY",
        "ALERT",
        "CRITICAL",
        "ERROR",
        "WARNING",
        "NOTICE",
        "INFO",
        "DEBUG",
    ];
    if let Some(index) = NAMES
        .iter()
        .position(|name| name.eq_ignore_ascii_case(value.trim()))
    {
        return u8::try_from(index).map_err(|_| invalid("severity", value));
    }
    let severity: u8 = number("severity", value)?;
    if severity <= 7 {
        Ok(severity)
    } else {
        Err(invalid("severity", value))
    }
}

fn split_collection_name(value: &str) -> Result<(String, &str), ParseError> {
    let (collection, name) = value
        .split_once('.')
        .ok_or_else(|| invalid("collection variable", value))?;
    Ok((collection.trim().to_ascii_lowercase(), name))
}

fn parse_setvar(value: &str) -> Result<SetVar, ParseError> {
    let value = value.trim();
    if let Some(target) = value.strip_prefix('!') {
        let (collection, name) = split_collection_name(target)?;
        return Ok(SetVar {
            collection,
            name: name.to_owned(),
            op: SetVarOp::Unset,
        });
    }
    let (target, op) = match value.split_once('=') {
        Some((target, assigned)) => {
            let op = if let Some(rest) = assigned.strip_prefix('+') {
                SetVarOp::Add(rest.to_owned())
            } else if let Some(rest) = assigned.strip_prefix('-') {
                SetVarOp::Subtract(rest.to_owned())
            } else {
                SetVarOp::Set(assigned.to_owned())
            };
            (target, op)
        }
        None => (value, SetVarOp::Set("1".to_owned())),
    };
    let (collection, name) = split_collection_name(target)?;
    Ok(SetVar {
        collection,
        name: name.to_owned(),
        op,
    })
}

fn parse_ctl(value: &str) -> Result<Ctl, ParseError> {
    let (option, argument) = value.split_once('=').ok_or_else(|| invalid("ctl", value))?;
    let argument = argument.trim();
    let option_lower = option.trim().to_ascii_lowercase();
    let target = |text: &str| -> Result<Variable, ParseError> {
        let mut variables = parse_variables(text)?;
        match (variables.pop(), variables.is_empty()) {
            (Some(variable), true) => Ok(variable),
            _ => Err(invalid("ctl target", text)),
        }
    };
    Ok(match option_lower.as_str() {
        "ruleengine" => Ctl::RuleEngine(parse_engine_mode(argument)?),
        "ruleremovebyid" => Ctl::RuleRemoveById(parse_id_ranges(argument)?),
        "ruleremovebytag" => Ctl::RuleRemoveByTag(argument.to_owned()),
        "ruleremovetargetbyid" => {
            let (ids, variable) = argument
                .split_once(';')
                .ok_or_else(|| invalid("ctl target", argument))?;
            Ctl::RuleRemoveTargetById(parse_id_ranges(ids)?, target(variable)?)
        }
        "ruleremovetargetbytag" => {
            let (tag, variable) = argument
                .split_once(';')
                .ok_or_else(|| invalid("ctl target", argument))?;
            Ctl::RuleRemoveTargetByTag(tag.to_owned(), target(variable)?)
        }
        "requestbodyprocessor" => Ctl::RequestBodyProcessor(argument.to_ascii_uppercase()),
        "requestbodyaccess" => {
            Ctl::RequestBodyAccess(parse_bool("ctl:requestBodyAccess", argument)?)
        }
        "forcerequestbodyvariable" => {
            Ctl::ForceRequestBodyVariable(parse_bool("ctl:forceRequestBodyVariable", argument)?)
        }
        "auditengine" => Ctl::AuditEngine(argument.to_owned()),
        "auditlogparts" => Ctl::AuditLogParts(argument.to_owned()),
        _ => {
            return Err(ParseError::new(ErrorKind::UnknownAction(format!(
                "ctl:{option}"
            ))));
        }
    })
}

/// Parses an action list (`id:1,phase:2,t:none,setvar:'tx.a=+1'`).
pub(crate) fn parse_actions(text: &str) -> Result<Vec<Action>, ParseError> {
    let mut actions = Vec::new();
    for (name, value) in split_actions(text)? {
        let value = value.as_deref();
        let lower = name.to_ascii_lowercase();
        let action = match lower.as_str() {
            "id" => Action::Id(number("rule id", require(&name, value)?)?),
            "phase" => Action::Phase(parse_phase(require(&name, value)?)?),
            "msg" => Action::Msg(require(&name, value)?.to_owned()),
            "logdata" => Action::LogData(require(&name, value)?.to_owned()),
            "severity" => Action::Severity(parse_severity(require(&name, value)?)?),
            "tag" => Action::Tag(require(&name, value)?.to_owned()),
            "ver" => Action::Ver(require(&name, value)?.to_owned()),
            "rev" => Action::Rev(require(&name, value)?.to_owned()),
            "maturity" => Action::Maturity(number("maturity", require(&name, value)?)?),
            "accuracy" => Action::Accuracy(number("accuracy", require(&name, value)?)?),
            "t" => {
                let transformation = require(&name, value)?;
                let canonical_name =
                    canonical(TRANSFORMATIONS, transformation.trim()).ok_or_else(|| {
                        ParseError::new(ErrorKind::UnknownTransformation(transformation.to_owned()))
                    })?;
                Action::Transformation(canonical_name.to_owned())
            }
            "chain" => Action::Chain,
            "pass" => Action::Disruptive(Disruptive::Pass),
            "block" => Action::Disruptive(Disruptive::Block),
            "deny" => Action::Disruptive(Disruptive::Deny),
            "drop" => Action::Disruptive(Disruptive::Drop),
            "allow" => Action::Disruptive(Disruptive::Allow(
                match value.map(str::to_ascii_lowercase).as_deref() {
                    None => AllowScope::Transaction,
                    Some("phase") => AllowScope::Phase,
                    Some("request") => AllowScope::Request,
                    Some(other) => return Err(invalid("allow scope", other)),
                },
            )),
            "redirect" => {
                Action::Disruptive(Disruptive::Redirect(require(&name, value)?.to_owned()))
            }
            "status" => Action::Status(number("status", require(&name, value)?)?),
            "capture" => Action::Capture,
            "setvar" => Action::SetVar(parse_setvar(require(&name, value)?)?),
            "expirevar" => {
                let value = require(&name, value)?;
                let (target, seconds) = value
                    .split_once('=')
                    .ok_or_else(|| invalid("expirevar", value))?;
                let (collection, variable) = split_collection_name(target)?;
                Action::ExpireVar {
                    collection,
                    name: variable.to_owned(),
                    seconds: seconds.to_owned(),
                }
            }
            "initcol" => {
                let value = require(&name, value)?;
                let (collection, key) = value
                    .split_once('=')
                    .ok_or_else(|| invalid("initcol", value))?;
                Action::InitCol {
                    collection: collection.trim().to_ascii_lowercase(),
                    key: key.to_owned(),
                }
            }
            "setenv" => {
                let value = require(&name, value)?;
                let (variable, assigned) = value.split_once('=').unwrap_or((value, "1"));
                Action::SetEnv {
                    name: variable.to_owned(),
                    value: assigned.to_owned(),
                }
            }
            "setuid" => Action::SetUid(require(&name, value)?.to_owned()),
            "setsid" => Action::SetSid(require(&name, value)?.to_owned()),
            "skip" => Action::Skip(number("skip count", require(&name, value)?)?),
            "skipafter" => Action::SkipAfter(require(&name, value)?.to_owned()),
            "multimatch" => Action::MultiMatch,
            "log" => Action::Log,
            "nolog" => Action::NoLog,
            "auditlog" => Action::AuditLog,
            "noauditlog" => Action::NoAuditLog,
            "ctl" => Action::Ctl(parse_ctl(require(&name, value)?)?),
            _ => return Err(ParseError::new(ErrorKind::UnknownAction(name))),
        };
        actions.push(action);
    }
    Ok(actions)
}
