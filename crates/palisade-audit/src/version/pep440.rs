//! PEP 440 versions and specifiers (Python packages): parsing with the PEP's normalisation rules
//! (case, `v` prefix, alternative spellings and separators of pre/post/dev, implicit numbers,
//! local segments), the total ordering of `packaging`, and specifier matching (`~=`, `==`, `!=`,
//! `<=`, `>=`, `<`, `>`, `===`, `.*` wildcards) including the exclusive-ordering and
//! pre-release rules.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

/// Longest version string accepted (hostile input bound).
const MAX_VERSION_LEN: usize = 256;
/// Most release components accepted.
const MAX_RELEASE_PARTS: usize = 32;

/// A pre-release phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PreKind {
    /// `a`, `alpha`.
    Alpha,
    /// `b`, `beta`.
    Beta,
    /// `rc`, `c`, `pre`, `preview`.
    ReleaseCandidate,
}

/// One segment of a local version label: numbers sort after words.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum LocalSegment {
    /// An alphanumeric segment (lower-cased).
    Text(String),
    /// A numeric segment.
    Number(u64),
}

impl Ord for LocalSegment {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Self::Number(a), Self::Number(b)) => a.cmp(b),
            (Self::Text(a), Self::Text(b)) => a.cmp(b),
            (Self::Number(_), Self::Text(_)) => Ordering::Greater,
            (Self::Text(_), Self::Number(_)) => Ordering::Less,
        }
    }
}

impl PartialOrd for LocalSegment {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// A parsed PEP 440 version. Equality is PEP 440 equality (`1.0 == 1.0.0`).
#[derive(Debug, Clone, Eq)]
pub struct Pep440Version {
    /// `N!` epoch (0 when absent).
    pub epoch: u64,
    /// Release numbers (`1.2.3`).
    pub release: Vec<u64>,
    /// Pre-release phase and number.
    pub pre: Option<(PreKind, u64)>,
    /// Post-release number.
    pub post: Option<u64>,
    /// Development release number.
    pub dev: Option<u64>,
    /// Local version label segments (empty when absent).
    pub local: Vec<LocalSegment>,
}

/// A version string that is not PEP 440.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid PEP 440 version {text:?}")]
pub struct InvalidPep440 {
    text: String,
}

struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }
    fn at_end(&self) -> bool {
        self.pos >= self.bytes.len()
    }
    fn number(&mut self) -> Option<u64> {
        let start = self.pos;
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.pos += 1;
        }
        if start == self.pos {
            return None;
        }
        std::str::from_utf8(&self.bytes[start..self.pos])
            .ok()?
            .parse()
            .ok()
    }
    /// Consumes one of `words` (the input is lower-cased), longest first.
    fn word(&mut self, words: &[&str]) -> Option<usize> {
        for (index, word) in words.iter().enumerate() {
            if self.bytes[self.pos..].starts_with(word.as_bytes()) {
                self.pos += word.len();
                return Some(index);
            }
        }
        None
    }
    fn separator(&mut self) -> bool {
        if matches!(self.peek(), Some(b'.' | b'-' | b'_')) {
            self.pos += 1;
            true
        } else {
            false
        }
    }
}

impl FromStr for Pep440Version {
    type Err = InvalidPep440;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let invalid = || InvalidPep440 {
            text: text.chars().take(MAX_VERSION_LEN).collect(),
        };
        let trimmed = text.trim();
        if trimmed.is_empty() || trimmed.len() > MAX_VERSION_LEN {
            return Err(invalid());
        }
        // numbers must fit in u64 (a longer digit run would otherwise be read as 0)
        if trimmed
            .split(|c: char| !c.is_ascii_digit())
            .any(|digits| digits.len() > 19)
        {
            return Err(invalid());
        }
        let lower = trimmed.to_ascii_lowercase();
        let (public, local_text) = match lower.split_once('+') {
            Some((public, local)) => (public, Some(local)),
            None => (lower.as_str(), None),
        };
        let public = public.strip_prefix('v').unwrap_or(public);
        let mut cursor = Cursor {
            bytes: public.as_bytes(),
            pos: 0,
        };
        let first = cursor.number().ok_or_else(invalid)?;
        let (epoch, mut release) = if cursor.peek() == Some(b'!') {
            cursor.pos += 1;
            (first, vec![cursor.number().ok_or_else(invalid)?])
        } else {
            (0, vec![first])
        };
        while cursor.peek() == Some(b'.')
            && cursor
                .bytes
                .get(cursor.pos + 1)
                .is_some_and(u8::is_ascii_digit)
        {
            cursor.pos += 1;
            release.push(cursor.number().ok_or_else(invalid)?);
            if release.len() > MAX_RELEASE_PARTS {
                return Err(invalid());
            }
        }
        let mut version = Pep440Version {
            epoch,
            release,
            pre: None,
            post: None,
            dev: None,
            local: Vec::new(),
        };
        // pre-release
        let save = cursor.pos;
        cursor.separator();
        const PRE_WORDS: [&str; 7] = ["alpha", "beta", "preview", "pre", "rc", "a", "b"];
        if let Some(index) = cursor.word(&PRE_WORDS).or_else(|| {
            // a lone "c" is a release candidate, but not the start of another word
            (cursor.peek() == Some(b'c')).then(|| {
                cursor.pos += 1;
                usize::MAX
            })
        }) {
            let kind = match index {
                0 | 5 => PreKind::Alpha,
                1 | 6 => PreKind::Beta,
                _ => PreKind::ReleaseCandidate,
            };
            // a separator after the word stays consumed even without a number (`1.0.post-`)
            cursor.separator();
            let number = cursor.number().unwrap_or_default();
            version.pre = Some((kind, number));
        } else {
            cursor.pos = save;
        }
        // post-release
        let save = cursor.pos;
        if cursor.peek() == Some(b'-')
            && cursor
                .bytes
                .get(cursor.pos + 1)
                .is_some_and(u8::is_ascii_digit)
        {
            cursor.pos += 1;
            version.post = cursor.number();
        } else {
            cursor.separator();
            if cursor.word(&["post", "rev", "r"]).is_some() {
                cursor.separator();
                version.post = Some(cursor.number().unwrap_or_default());
            } else {
                cursor.pos = save;
            }
        }
        // development release
        let save = cursor.pos;
        cursor.separator();
        if cursor.word(&["dev"]).is_some() {
            // a separator after the word stays consumed even without a number (`1.0.post-`)
            cursor.separator();
            version.dev = Some(cursor.number().unwrap_or_default());
        } else {
            cursor.pos = save;
        }
        if !cursor.at_end() {
            return Err(invalid());
        }
        if let Some(local) = local_text {
            for segment in local.split(['.', '-', '_']) {
                if segment.is_empty() || !segment.bytes().all(|b| b.is_ascii_alphanumeric()) {
                    return Err(invalid());
                }
                version
                    .local
                    .push(if segment.bytes().all(|b| b.is_ascii_digit()) {
                        LocalSegment::Number(segment.parse().map_err(|_| invalid())?)
                    } else {
                        LocalSegment::Text(segment.to_owned())
                    });
            }
        }
        Ok(version)
    }
}

impl Pep440Version {
    /// A pre-release or development release.
    pub fn is_prerelease(&self) -> bool {
        self.pre.is_some() || self.dev.is_some()
    }

    /// The same version without its local label.
    pub fn public(&self) -> Pep440Version {
        Pep440Version {
            local: Vec::new(),
            ..self.clone()
        }
    }

    /// Epoch and release only (`1!2.0rc1.post3` → `1!2.0`).
    pub fn base(&self) -> Pep440Version {
        Pep440Version {
            epoch: self.epoch,
            release: self.release.clone(),
            pre: None,
            post: None,
            dev: None,
            local: Vec::new(),
        }
    }

    fn release_cmp(&self, other: &Self) -> Ordering {
        let len = self.release.len().max(other.release.len());
        for index in 0..len {
            let a = self.release.get(index).copied().unwrap_or(0);
            let b = other.release.get(index).copied().unwrap_or(0);
            match a.cmp(&b) {
                Ordering::Equal => {}
                unequal => return unequal,
            }
        }
        Ordering::Equal
    }

    /// The key `packaging` sorts pre-releases by: dev-only releases sort before any pre-release,
    /// final releases after all of them.
    fn pre_key(&self) -> (i8, Option<(PreKind, u64)>) {
        match (self.pre, self.post, self.dev) {
            (None, None, Some(_)) => (-1, None),
            (None, _, _) => (1, None),
            (Some(pre), _, _) => (0, Some(pre)),
        }
    }
}

impl Ord for Pep440Version {
    fn cmp(&self, other: &Self) -> Ordering {
        self.epoch
            .cmp(&other.epoch)
            .then_with(|| self.release_cmp(other))
            .then_with(|| self.pre_key().cmp(&other.pre_key()))
            // no post release sorts first
            .then_with(|| {
                self.post
                    .map(|n| n as i128)
                    .unwrap_or(-1)
                    .cmp(&other.post.map(|n| n as i128).unwrap_or(-1))
            })
            // no dev release sorts last
            .then_with(|| {
                self.dev
                    .map(|n| n as i128)
                    .unwrap_or(i128::MAX)
                    .cmp(&other.dev.map(|n| n as i128).unwrap_or(i128::MAX))
            })
            .then_with(|| self.local.cmp(&other.local))
    }
}

impl PartialOrd for Pep440Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Pep440Version {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl fmt::Display for Pep440Version {
    /// The normalised form.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.epoch != 0 {
            write!(f, "{}!", self.epoch)?;
        }
        let release: Vec<String> = self.release.iter().map(u64::to_string).collect();
        f.write_str(&release.join("."))?;
        if let Some((kind, number)) = self.pre {
            let letter = match kind {
                PreKind::Alpha => "a",
                PreKind::Beta => "b",
                PreKind::ReleaseCandidate => "rc",
            };
            write!(f, "{letter}{number}")?;
        }
        if let Some(post) = self.post {
            write!(f, ".post{post}")?;
        }
        if let Some(dev) = self.dev {
            write!(f, ".dev{dev}")?;
        }
        if !self.local.is_empty() {
            let local: Vec<String> = self
                .local
                .iter()
                .map(|segment| match segment {
                    LocalSegment::Text(text) => text.clone(),
                    LocalSegment::Number(number) => number.to_string(),
                })
                .collect();
            write!(f, "+{}", local.join("."))?;
        }
        Ok(())
    }
}

/// A specifier operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operator {
    /// `~=`
    Compatible,
    /// `==`
    Equal,
    /// `==` with a trailing `.*`
    EqualPrefix,
    /// `!=`
    NotEqual,
    /// `!=` with a trailing `.*`
    NotEqualPrefix,
    /// `<=`
    LessEqual,
    /// `>=`
    GreaterEqual,
    /// `<`
    Less,
    /// `>`
    Greater,
    /// `===` (string identity)
    Arbitrary,
}

/// One version specifier, e.g. `>=1.2,` `~=2.0`, `==1.4.*`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Specifier {
    operator: Operator,
    version: Pep440Version,
    text: String,
}

/// A specifier that is not valid PEP 440.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid PEP 440 specifier {text:?}")]
pub struct InvalidSpecifier {
    text: String,
}

impl FromStr for Specifier {
    type Err = InvalidSpecifier;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let invalid = || InvalidSpecifier {
            text: text.chars().take(MAX_VERSION_LEN).collect(),
        };
        let trimmed = text.trim();
        let (operator, rest) = [
            ("===", Operator::Arbitrary),
            ("~=", Operator::Compatible),
            ("==", Operator::Equal),
            ("!=", Operator::NotEqual),
            ("<=", Operator::LessEqual),
            (">=", Operator::GreaterEqual),
            ("<", Operator::Less),
            (">", Operator::Greater),
        ]
        .iter()
        .find_map(|(prefix, operator)| {
            trimmed
                .strip_prefix(prefix)
                .map(|rest| (*operator, rest.trim()))
        })
        .ok_or_else(invalid)?;
        if operator == Operator::Arbitrary {
            return Ok(Specifier {
                operator,
                version: Pep440Version::from_str("0").map_err(|_| invalid())?,
                text: rest.to_owned(),
            });
        }
        let (operator, version_text) = match (operator, rest.strip_suffix(".*")) {
            (Operator::Equal, Some(prefix)) => (Operator::EqualPrefix, prefix),
            (Operator::NotEqual, Some(prefix)) => (Operator::NotEqualPrefix, prefix),
            (_, Some(_)) => return Err(invalid()),
            (operator, None) => (operator, rest),
        };
        let version: Pep440Version = version_text.parse().map_err(|_| invalid())?;
        let local_allowed = matches!(operator, Operator::Equal | Operator::NotEqual);
        if !version.local.is_empty() && !local_allowed {
            return Err(invalid());
        }
        if matches!(operator, Operator::EqualPrefix | Operator::NotEqualPrefix)
            && (version.dev.is_some() || version.post.is_some())
        {
            return Err(invalid());
        }
        if operator == Operator::Compatible && version.release.len() < 2 {
            return Err(invalid());
        }
        Ok(Specifier {
            operator,
            version,
            text: rest.to_owned(),
        })
    }
}

impl Specifier {
    /// The operator.
    pub fn operator(&self) -> Operator {
        self.operator
    }

    /// The version this specifier names.
    pub fn version(&self) -> &Pep440Version {
        &self.version
    }

    /// Whether this specifier admits pre-releases by itself (it names one with an inclusive operator).
    pub fn mentions_prerelease(&self) -> bool {
        matches!(
            self.operator,
            Operator::Equal
                | Operator::EqualPrefix
                | Operator::GreaterEqual
                | Operator::LessEqual
                | Operator::Compatible
                | Operator::Arbitrary
        ) && self.version.is_prerelease()
    }

    /// `packaging`'s `Specifier.contains(candidate)`: pre-releases only when the specifier
    /// mentions one.
    pub fn contains(&self, candidate: &Pep440Version) -> bool {
        if candidate.is_prerelease() && !self.mentions_prerelease() {
            return false;
        }
        self.matches(candidate)
    }

    /// The specifier's rule alone, pre-releases allowed.
    pub fn matches(&self, candidate: &Pep440Version) -> bool {
        let spec = &self.version;
        match self.operator {
            Operator::Arbitrary => candidate.to_string().eq_ignore_ascii_case(&self.text),
            Operator::Equal => Self::matches_equal(candidate, spec),
            Operator::NotEqual => !Self::matches_equal(candidate, spec),
            Operator::EqualPrefix => prefix_match(candidate, spec),
            Operator::NotEqualPrefix => !prefix_match(candidate, spec),
            Operator::LessEqual => candidate.public() <= *spec,
            Operator::GreaterEqual => candidate.public() >= *spec,
            // `<V` is `<V.dev0` unless V is itself a pre-release: no pre-release of V's release
            Operator::Less => {
                if spec.is_prerelease() {
                    candidate.public() < *spec
                } else {
                    let below = Pep440Version {
                        dev: Some(0),
                        ..spec.clone()
                    };
                    candidate.public() < below
                }
            }
            // `>V` excludes V's post-releases (and local versions of V) unless V is a post- or
            // dev release: later versions sharing V's release and pre-release segment
            Operator::Greater => {
                candidate.public() > *spec
                    && !(spec.dev.is_none()
                        && spec.post.is_none()
                        && candidate.epoch == spec.epoch
                        && candidate.release_cmp(spec) == Ordering::Equal
                        && candidate.pre == spec.pre)
            }
            Operator::Compatible => {
                let prefix = Pep440Version {
                    epoch: spec.epoch,
                    release: spec.release[..spec.release.len() - 1].to_vec(),
                    pre: None,
                    post: None,
                    dev: None,
                    local: Vec::new(),
                };
                candidate.public() >= *spec && prefix_match(candidate, &prefix)
            }
        }
    }

    fn matches_equal(candidate: &Pep440Version, spec: &Pep440Version) -> bool {
        if spec.local.is_empty() {
            candidate.public() == *spec
        } else {
            candidate == spec
        }
    }
}

/// `==V.*`: the candidate's release, zero-padded, starts with V's release (and V's pre-release
/// when it names one).
fn prefix_match(candidate: &Pep440Version, prefix: &Pep440Version) -> bool {
    if candidate.epoch != prefix.epoch {
        return false;
    }
    let release_matches = prefix
        .release
        .iter()
        .enumerate()
        .all(|(index, part)| candidate.release.get(index).copied().unwrap_or(0) == *part);
    if !release_matches {
        return false;
    }
    match prefix.pre {
        None => true,
        Some(pre) => candidate.release.len() <= prefix.release.len() && candidate.pre == Some(pre),
    }
}

/// A comma-separated set of specifiers (`>=1.0,<2.0`); empty means any version.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SpecifierSet {
    specifiers: Vec<Specifier>,
}

impl FromStr for SpecifierSet {
    type Err = InvalidSpecifier;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let specifiers = text
            .split(',')
            .map(str::trim)
            .filter(|part| !part.is_empty())
            .map(str::parse)
            .collect::<Result<Vec<Specifier>, _>>()?;
        Ok(SpecifierSet { specifiers })
    }
}

impl SpecifierSet {
    /// The specifiers.
    pub fn specifiers(&self) -> &[Specifier] {
        &self.specifiers
    }

    /// `packaging`'s `SpecifierSet.contains(candidate)`: every specifier matches; pre-releases
    /// only when one of the specifiers mentions a pre-release.
    pub fn contains(&self, candidate: &Pep440Version) -> bool {
        if candidate.is_prerelease() && !self.specifiers.iter().any(Specifier::mentions_prerelease)
        {
            return false;
        }
        self.specifiers
            .iter()
            .all(|specifier| specifier.matches(candidate))
    }

    /// The exact version this set pins (`==1.2.3` without wildcard, or `===`), if it does.
    pub fn pinned(&self) -> Option<String> {
        match self.specifiers.as_slice() {
            [only] if only.operator == Operator::Equal => Some(only.version.to_string()),
            [only] if only.operator == Operator::Arbitrary => Some(only.text.clone()),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(text: &str) -> Pep440Version {
        text.parse().unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn normalises_spellings() {
        assert_eq!(v("1.0-ALPHA.1").to_string(), "1.0a1");
        assert_eq!(v("v1.0c").to_string(), "1.0rc0");
        assert_eq!(v("1.0-1").to_string(), "1.0.post1");
        assert_eq!(v("1.0.rev").to_string(), "1.0.post0");
        assert_eq!(
            v("1!2.0_preview-3.r4-DEV5+Ubuntu-1_x").to_string(),
            "1!2.0rc3.post4.dev5+ubuntu.1.x"
        );
        assert!("1.0.".parse::<Pep440Version>().is_err());
        assert!("1.0+".parse::<Pep440Version>().is_err());
        assert!("french toast".parse::<Pep440Version>().is_err());
        assert!(
            "1.0a99999999999999999999999"
                .parse::<Pep440Version>()
                .is_err()
        );
    }

    #[test]
    fn orders_like_packaging() {
        let ordered = [
            "1.0.dev456",
            "1.0a1",
            "1.0a2.dev456",
            "1.0a12.dev456",
            "1.0a12",
            "1.0b1.dev456",
            "1.0b2",
            "1.0b2.post345.dev456",
            "1.0b2.post345",
            "1.0rc1.dev456",
            "1.0rc1",
            "1.0",
            "1.0+abc.5",
            "1.0+abc.7",
            "1.0+5",
            "1.0.post456.dev34",
            "1.0.post456",
            "1.1.dev1",
            "1!0.1",
        ];
        for pair in ordered.windows(2) {
            assert!(v(pair[0]) < v(pair[1]), "{} < {}", pair[0], pair[1]);
        }
        assert_eq!(v("1.0"), v("1.0.0"));
    }

    #[test]
    fn specifiers() {
        let set: SpecifierSet = "~=2.2".parse().unwrap_or_default();
        assert!(set.contains(&v("2.3")));
        assert!(!set.contains(&v("3.0")));
        let spec: Specifier = ">1.7".parse().unwrap_or_else(|e| panic!("{e}"));
        assert!(!spec.matches(&v("1.7.0.post1")));
        let spec: Specifier = "<1.7".parse().unwrap_or_else(|e| panic!("{e}"));
        assert!(!spec.matches(&v("1.7.0rc1")));
        let spec: Specifier = "==1.1.*".parse().unwrap_or_else(|e| panic!("{e}"));
        assert!(spec.matches(&v("1.1.post1")));
        assert!(!spec.matches(&v("1.10")));
    }
}
