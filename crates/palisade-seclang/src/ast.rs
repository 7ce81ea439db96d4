//! The syntax tree of a SecLang configuration: directives, rules, variables, operators
//! and actions, exactly as written (macros such as `%{tx.x}` are kept as text; the
//! engine expands them at run time).

use crate::error::Location;

/// One parsed configuration: its directives in order, includes already expanded.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Config {
    /// Directives in file order.
    pub directives: Vec<Directive>,
}

/// A directive, with where it was written.
#[derive(Debug, Clone, PartialEq)]
pub struct Located<T> {
    /// Where the directive starts.
    pub location: Location,
    /// The directive.
    pub item: T,
}

/// One configuration directive.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Directive {
    /// `SecRule` or `SecAction` (the latter has no variables and `@unconditionalMatch`).
    Rule(Located<Rule>),
    /// `SecMarker`.
    Marker(Located<String>),
    /// `SecDefaultAction`.
    DefaultAction(Located<Vec<Action>>),
    /// `SecRuleRemoveById`.
    RemoveById(Vec<IdRange>),
    /// `SecRuleRemoveByTag` (a regular expression).
    RemoveByTag(String),
    /// `SecRuleRemoveByMsg` (a regular expression).
    RemoveByMsg(String),
    /// `SecRuleUpdateTargetById` / `ByTag` / `ByMsg`.
    UpdateTarget {
        /// Which rules.
        selector: RuleSelector,
        /// Targets to add (or, when negated, to exclude).
        targets: Vec<Variable>,
        /// Optional replaced target (third argument).
        replaced: Option<Vec<Variable>>,
    },
    /// `SecRuleUpdateActionById`.
    UpdateAction {
        /// The rule id (with optional `:chain-offset`, kept as the id only).
        id: u64,
        /// Actions replacing those of the same kind.
        actions: Vec<Action>,
    },
    /// Engine-wide settings (`SecRuleEngine`, body access and limits …).
    Setting(Setting),
}

/// How `SecRuleUpdateTarget*` selects rules.
#[derive(Debug, Clone, PartialEq)]
pub enum RuleSelector {
    /// By id ranges.
    Ids(Vec<IdRange>),
    /// By tag (regular expression).
    Tag(String),
    /// By message (regular expression).
    Msg(String),
}

/// An inclusive range of rule ids (`942100` or `942100-942199`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdRange {
    /// First id.
    pub first: u64,
    /// Last id (inclusive).
    pub last: u64,
}

impl IdRange {
    /// True when `id` is in the range.
    pub fn contains(&self, id: u64) -> bool {
        (self.first..=self.last).contains(&id)
    }
}

/// `SecRuleEngine` / `ctl:ruleEngine` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EngineMode {
    /// Rules run and disruptive actions are enforced.
    On,
    /// Rules do not run.
    Off,
    /// Rules run; disruptive actions are only logged.
    DetectionOnly,
}

/// What to do when a body exceeds its limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitAction {
    /// Refuse the transaction.
    Reject,
    /// Inspect the prefix only.
    ProcessPartial,
}

/// Engine-wide settings.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Setting {
    /// `SecRuleEngine`.
    RuleEngine(EngineMode),
    /// `SecRequestBodyAccess`.
    RequestBodyAccess(bool),
    /// `SecResponseBodyAccess`.
    ResponseBodyAccess(bool),
    /// `SecRequestBodyLimit`.
    RequestBodyLimit(u64),
    /// `SecRequestBodyNoFilesLimit`.
    RequestBodyNoFilesLimit(u64),
    /// `SecRequestBodyLimitAction`.
    RequestBodyLimitAction(LimitAction),
    /// `SecResponseBodyLimit`.
    ResponseBodyLimit(u64),
    /// `SecResponseBodyLimitAction`.
    ResponseBodyLimitAction(LimitAction),
    /// `SecResponseBodyMimeType` (replaces the list).
    ResponseBodyMimeTypes(Vec<String>),
    /// `SecRequestBodyJsonDepthLimit`.
    RequestBodyJsonDepthLimit(u64),
    /// `SecArgumentsLimit`.
    ArgumentsLimit(u64),
    /// `SecArgumentSeparator`.
    ArgumentSeparator(String),
    /// `SecPcreMatchLimit` / `SecPcreMatchLimitRecursion` (accepted; regexes are linear here).
    PcreMatchLimit(u64),
    /// `SecComponentSignature`.
    ComponentSignature(String),
    /// `SecCollectionTimeout` (seconds).
    CollectionTimeout(u64),
    /// `SecWebAppId`.
    WebAppId(String),
    /// `SecAuditEngine`.
    AuditEngine(String),
    /// `SecAuditLog`.
    AuditLog(String),
    /// `SecAuditLogParts`.
    AuditLogParts(String),
    /// `SecAuditLogFormat`.
    AuditLogFormat(String),
    /// Other accepted settings with no effect on decisions (`SecDebugLog`, `SecTmpDir`,
    /// `SecDataDir`, `SecUnicodeMapFile`, `SecGeoLookupDb`, …): name and arguments.
    Other {
        /// Directive name as written.
        name: String,
        /// Its arguments.
        args: Vec<String>,
    },
}

/// A rule (`SecRule`) or an unconditional action (`SecAction`).
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    /// Targets (empty for `SecAction`).
    pub variables: Vec<Variable>,
    /// The operator (`@unconditionalMatch` for `SecAction`).
    pub operator: Operator,
    /// Actions in written order.
    pub actions: Vec<Action>,
    /// True for `SecAction`.
    pub is_action: bool,
}

/// One target of a rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variable {
    /// The collection or scalar variable.
    pub name: VariableName,
    /// `:key` or `:/regex/`.
    pub selector: Option<Selector>,
    /// `!` — exclusion from the target list.
    pub excluded: bool,
    /// `&` — count instead of values.
    pub count: bool,
}

/// A key selector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    /// Exact key (compared case-insensitively for headers/collections, as ModSecurity does).
    Key(String),
    /// `/regex/` key match.
    Regex(String),
}

/// The operator of a rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operator {
    /// Name without `@` (`rx`, `pm`, `detectSQLi` …) in canonical case.
    pub name: String,
    /// Argument text (macros not expanded).
    pub argument: String,
    /// `!@op`.
    pub negated: bool,
}

/// A disruptive action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Disruptive {
    /// `pass`.
    Pass,
    /// `block` (resolves to the default action's disruptive action).
    Block,
    /// `deny`.
    Deny,
    /// `drop`.
    Drop,
    /// `allow` / `allow:phase` / `allow:request`.
    Allow(AllowScope),
    /// `redirect:URL`.
    Redirect(String),
}

/// Scope of `allow`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AllowScope {
    /// The whole transaction.
    Transaction,
    /// The rest of the current phase.
    Phase,
    /// The rest of the request phases.
    Request,
}

/// A `setvar` operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SetVarOp {
    /// `name=value`.
    Set(String),
    /// `name=+value`.
    Add(String),
    /// `name=-value`.
    Subtract(String),
    /// `!name`.
    Unset,
}

/// One `setvar` action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetVar {
    /// Collection (`tx`, `ip`, …) lowercased.
    pub collection: String,
    /// Variable name (may contain macros).
    pub name: String,
    /// Operation.
    pub op: SetVarOp,
}

/// A `ctl` action.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Ctl {
    /// `ctl:ruleEngine=`.
    RuleEngine(EngineMode),
    /// `ctl:ruleRemoveById=`.
    RuleRemoveById(Vec<IdRange>),
    /// `ctl:ruleRemoveByTag=`.
    RuleRemoveByTag(String),
    /// `ctl:ruleRemoveTargetById=ID;TARGET`.
    RuleRemoveTargetById(Vec<IdRange>, Variable),
    /// `ctl:ruleRemoveTargetByTag=TAG;TARGET`.
    RuleRemoveTargetByTag(String, Variable),
    /// `ctl:requestBodyProcessor=`.
    RequestBodyProcessor(String),
    /// `ctl:requestBodyAccess=`.
    RequestBodyAccess(bool),
    /// `ctl:forceRequestBodyVariable=`.
    ForceRequestBodyVariable(bool),
    /// `ctl:auditEngine=`.
    AuditEngine(String),
    /// `ctl:auditLogParts=`.
    AuditLogParts(String),
}

/// One action of a rule.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Action {
    /// `id`.
    Id(u64),
    /// `phase` (1–5).
    Phase(u8),
    /// `msg`.
    Msg(String),
    /// `logdata`.
    LogData(String),
    /// `severity` (0 = EMERGENCY … 7 = DEBUG).
    Severity(u8),
    /// `tag`.
    Tag(String),
    /// `ver`.
    Ver(String),
    /// `rev`.
    Rev(String),
    /// `maturity`.
    Maturity(u8),
    /// `accuracy`.
    Accuracy(u8),
    /// `t:name` (canonical name; `none` clears the chain).
    Transformation(String),
    /// `chain`.
    Chain,
    /// A disruptive action.
    Disruptive(Disruptive),
    /// `status`.
    Status(u16),
    /// `capture`.
    Capture,
    /// `setvar`.
    SetVar(SetVar),
    /// `expirevar:collection.name=seconds`.
    ExpireVar {
        /// Collection.
        collection: String,
        /// Name.
        name: String,
        /// Seconds (may be a macro).
        seconds: String,
    },
    /// `initcol:collection=key`.
    InitCol {
        /// Collection (`ip`, `global`, `session`, `user`, `resource`).
        collection: String,
        /// Key (may contain macros).
        key: String,
    },
    /// `setenv:name=value`.
    SetEnv {
        /// Name.
        name: String,
        /// Value.
        value: String,
    },
    /// `setuid`.
    SetUid(String),
    /// `setsid`.
    SetSid(String),
    /// `skip:n`.
    Skip(u32),
    /// `skipAfter:marker`.
    SkipAfter(String),
    /// `multiMatch`.
    MultiMatch,
    /// `log`.
    Log,
    /// `nolog`.
    NoLog,
    /// `auditlog`.
    AuditLog,
    /// `noauditlog`.
    NoAuditLog,
    /// `ctl`.
    Ctl(Ctl),
}

macro_rules! variable_names {
    ($($variant:ident => $name:literal, $collection:literal;)*) => {
        /// Every variable (collection or scalar) the parser accepts.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        #[allow(missing_docs)]
        pub enum VariableName { $($variant,)* }

        impl VariableName {
            /// Looks a name up (case-insensitively).
            pub fn from_name(name: &str) -> Option<Self> {
                $(if name.eq_ignore_ascii_case($name) { return Some(VariableName::$variant); })*
                None
            }
            /// The canonical (upper-case) name.
            pub fn as_str(self) -> &'static str {
                match self { $(VariableName::$variant => $name,)* }
            }
            /// True for variables that are collections (accept a `:key` selector).
            pub fn is_collection(self) -> bool {
                match self { $(VariableName::$variant => $collection,)* }
            }
        }
    };
}

variable_names! {
    Args => "ARGS", true;
    ArgsCombinedSize => "ARGS_COMBINED_SIZE", false;
    ArgsGet => "ARGS_GET", true;
    ArgsGetNames => "ARGS_GET_NAMES", true;
    ArgsNames => "ARGS_NAMES", true;
    ArgsPost => "ARGS_POST", true;
    ArgsPostNames => "ARGS_POST_NAMES", true;
    AuthType => "AUTH_TYPE", false;
    Duration => "DURATION", false;
    Env => "ENV", true;
    Files => "FILES", true;
    FilesCombinedSize => "FILES_COMBINED_SIZE", false;
    FilesNames => "FILES_NAMES", true;
    FilesSizes => "FILES_SIZES", true;
    FilesTmpNames => "FILES_TMPNAMES", true;
    FilesTmpContent => "FILES_TMP_CONTENT", true;
    FullRequest => "FULL_REQUEST", false;
    FullRequestLength => "FULL_REQUEST_LENGTH", false;
    Geo => "GEO", true;
    Global => "GLOBAL", true;
    HighestSeverity => "HIGHEST_SEVERITY", false;
    InboundDataError => "INBOUND_DATA_ERROR", false;
    Ip => "IP", true;
    MatchedVar => "MATCHED_VAR", false;
    MatchedVarName => "MATCHED_VAR_NAME", false;
    MatchedVars => "MATCHED_VARS", true;
    MatchedVarsNames => "MATCHED_VARS_NAMES", true;
    ModsecBuild => "MODSEC_BUILD", false;
    MscPcreLimitsExceeded => "MSC_PCRE_LIMITS_EXCEEDED", false;
    MultipartBoundaryQuoted => "MULTIPART_BOUNDARY_QUOTED", false;
    MultipartBoundaryWhitespace => "MULTIPART_BOUNDARY_WHITESPACE", false;
    MultipartCrlfLfLines => "MULTIPART_CRLF_LF_LINES", false;
    MultipartDataAfter => "MULTIPART_DATA_AFTER", false;
    MultipartDataBefore => "MULTIPART_DATA_BEFORE", false;
    MultipartFileLimitExceeded => "MULTIPART_FILE_LIMIT_EXCEEDED", false;
    MultipartFilename => "MULTIPART_FILENAME", true;
    MultipartHeaderFolding => "MULTIPART_HEADER_FOLDING", false;
    MultipartInvalidHeaderFolding => "MULTIPART_INVALID_HEADER_FOLDING", false;
    MultipartInvalidPart => "MULTIPART_INVALID_PART", false;
    MultipartInvalidQuoting => "MULTIPART_INVALID_QUOTING", false;
    MultipartLfLine => "MULTIPART_LF_LINE", false;
    MultipartMissingSemicolon => "MULTIPART_MISSING_SEMICOLON", false;
    MultipartName => "MULTIPART_NAME", true;
    MultipartPartHeaders => "MULTIPART_PART_HEADERS", true;
    MultipartSemicolonMissing => "MULTIPART_SEMICOLON_MISSING", false;
    MultipartStrictError => "MULTIPART_STRICT_ERROR", false;
    MultipartUnmatchedBoundary => "MULTIPART_UNMATCHED_BOUNDARY", false;
    OutboundDataError => "OUTBOUND_DATA_ERROR", false;
    PathInfo => "PATH_INFO", false;
    QueryString => "QUERY_STRING", false;
    RemoteAddr => "REMOTE_ADDR", false;
    RemoteHost => "REMOTE_HOST", false;
    RemotePort => "REMOTE_PORT", false;
    RemoteUser => "REMOTE_USER", false;
    ReqbodyError => "REQBODY_ERROR", false;
    ReqbodyErrorMsg => "REQBODY_ERROR_MSG", false;
    ReqbodyProcessor => "REQBODY_PROCESSOR", false;
    ReqbodyProcessorError => "REQBODY_PROCESSOR_ERROR", false;
    ReqbodyProcessorErrorMsg => "REQBODY_PROCESSOR_ERROR_MSG", false;
    RequestBasename => "REQUEST_BASENAME", false;
    RequestBody => "REQUEST_BODY", false;
    RequestBodyLength => "REQUEST_BODY_LENGTH", false;
    RequestCookies => "REQUEST_COOKIES", true;
    RequestCookiesNames => "REQUEST_COOKIES_NAMES", true;
    RequestFilename => "REQUEST_FILENAME", false;
    RequestHeaders => "REQUEST_HEADERS", true;
    RequestHeadersNames => "REQUEST_HEADERS_NAMES", true;
    RequestLine => "REQUEST_LINE", false;
    RequestMethod => "REQUEST_METHOD", false;
    RequestProtocol => "REQUEST_PROTOCOL", false;
    RequestUri => "REQUEST_URI", false;
    RequestUriRaw => "REQUEST_URI_RAW", false;
    Resource => "RESOURCE", true;
    ResponseBody => "RESPONSE_BODY", false;
    ResponseContentLength => "RESPONSE_CONTENT_LENGTH", false;
    ResponseContentType => "RESPONSE_CONTENT_TYPE", false;
    ResponseHeaders => "RESPONSE_HEADERS", true;
    ResponseHeadersNames => "RESPONSE_HEADERS_NAMES", true;
    ResponseProtocol => "RESPONSE_PROTOCOL", false;
    ResponseStatus => "RESPONSE_STATUS", false;
    Rule => "RULE", true;
    ServerAddr => "SERVER_ADDR", false;
    ServerName => "SERVER_NAME", false;
    ServerPort => "SERVER_PORT", false;
    Session => "SESSION", true;
    SessionId => "SESSIONID", false;
    StatusLine => "STATUS_LINE", false;
    Time => "TIME", false;
    TimeDay => "TIME_DAY", false;
    TimeEpoch => "TIME_EPOCH", false;
    TimeHour => "TIME_HOUR", false;
    TimeMin => "TIME_MIN", false;
    TimeMon => "TIME_MON", false;
    TimeSec => "TIME_SEC", false;
    TimeWday => "TIME_WDAY", false;
    TimeYear => "TIME_YEAR", false;
    Tx => "TX", true;
    UniqueId => "UNIQUE_ID", false;
    UrlencodedError => "URLENCODED_ERROR", false;
    User => "USER", true;
    UserId => "USERID", false;
    WebAppId => "WEBAPPID", false;
    Xml => "XML", true;
}
