//! Variables by [`VariableName`]: a bit set of the variables a program can read, and a
//! map from variable to value with a fixed index (no hashing, no tree).
//!
//! Design note: a program reads a variable through a rule target (`ARGS`,
//! `&REQUEST_HEADERS:Host`) or a macro (`%{REQUEST_LINE}` in a message, a `setvar` value,
//! an operator argument …). Both are known once the program is compiled, so a
//! transaction only materialises the request variables some rule or macro can read
//! ([`crate::program::Program::references`]); nothing else can observe the others.

use palisade_seclang::VariableName;

/// Bit capacity of [`VariableSet`] and [`VariableMap`] (more than the variables there are).
const CAPACITY: usize = 128;

/// The fixed index of a variable.
fn index(name: VariableName) -> usize {
    let index = name as usize;
    debug_assert!(index < CAPACITY, "{name:?} has index {index} >= {CAPACITY}");
    index % CAPACITY
}

/// A set of variables.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct VariableSet(u128);

impl VariableSet {
    /// Every variable (a program that may read anything).
    #[cfg(test)]
    pub(crate) const ALL: VariableSet = VariableSet(u128::MAX);

    pub(crate) fn insert(&mut self, name: VariableName) {
        self.0 |= 1 << index(name);
        // Derived variables are built from others.
        use VariableName as V;
        let sources: &[VariableName] = match name {
            V::Args | V::ArgsNames | V::ArgsCombinedSize => &[V::ArgsGet, V::ArgsPost],
            V::ArgsGetNames => &[V::ArgsGet],
            V::ArgsPostNames => &[V::ArgsPost],
            V::RequestHeadersNames => &[V::RequestHeaders],
            V::RequestCookiesNames => &[V::RequestCookies],
            V::ResponseHeadersNames => &[V::ResponseHeaders],
            _ => &[],
        };
        for source in sources {
            self.0 |= 1 << index(*source);
        }
    }

    pub(crate) fn contains(self, name: VariableName) -> bool {
        self.0 & (1 << index(name)) != 0
    }

    /// Adds the variables the macros (`%{NAME}`, `%{NAME.key}`, `%{NAME:key}`) of `text`
    /// read, as `Transaction::expand` resolves them.
    pub(crate) fn insert_macro_references(&mut self, text: &str) {
        let mut rest = text;
        while let Some(start) = rest.find("%{") {
            let after = &rest[start + 2..];
            let Some(end) = after.find('}') else {
                return;
            };
            let reference = &after[..end];
            let collection = reference
                .split_once(['.', ':'])
                .map_or(reference, |(collection, _)| collection);
            if let Some(name) = VariableName::from_name(collection) {
                self.insert(name);
            }
            rest = &after[end + 1..];
        }
    }
}

/// Values by variable: a fixed index into a list of the variables set so far.
#[derive(Debug)]
pub(crate) struct VariableMap<T> {
    /// Position + 1 in `entries`, 0 when unset.
    positions: [u8; CAPACITY],
    entries: Vec<T>,
}

impl<T> Default for VariableMap<T> {
    fn default() -> Self {
        VariableMap {
            positions: [0; CAPACITY],
            entries: Vec::new(),
        }
    }
}

impl<T> VariableMap<T> {
    pub(crate) fn get(&self, name: VariableName) -> Option<&T> {
        match self.positions[index(name)] {
            0 => None,
            position => self.entries.get(usize::from(position) - 1),
        }
    }

    /// Removes every value, handing them out.
    pub(crate) fn drain(&mut self) -> impl Iterator<Item = T> + '_ {
        self.positions = [0; CAPACITY];
        self.entries.drain(..)
    }

    /// Sets `name` to `value` (replacing the value it had).
    pub(crate) fn insert(&mut self, name: VariableName, value: T) {
        let slot = &mut self.positions[index(name)];
        match *slot {
            0 => {
                self.entries.push(value);
                // At most CAPACITY entries, one per variable: the position fits a u8.
                *slot = u8::try_from(self.entries.len()).unwrap_or(u8::MAX);
            }
            position => self.entries[usize::from(position) - 1] = value,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use VariableName as V;

    #[test]
    fn every_variable_has_its_own_index() {
        let mut seen = std::collections::HashSet::new();
        for name in ["ARGS", "XML", "WEBAPPID", "USERID", "TX", "REQUEST_LINE"] {
            let name = VariableName::from_name(name).expect("known");
            assert!((name as usize) < CAPACITY);
            assert!(seen.insert(index(name)));
        }
    }

    #[test]
    fn macros_and_derived_variables_are_referenced() {
        let mut set = VariableSet::default();
        set.insert_macro_references("%{REQUEST_LINE} %{request_headers.host} %{tx:0} %{bogus}");
        set.insert(V::ArgsNames);
        for name in [
            V::RequestLine,
            V::RequestHeaders,
            V::Tx,
            V::ArgsNames,
            V::ArgsGet,
            V::ArgsPost,
        ] {
            assert!(set.contains(name), "{name:?}");
        }
        assert!(!set.contains(V::RemoteAddr));
        assert!(VariableSet::ALL.contains(V::RemoteAddr));
    }

    #[test]
    fn map_replaces_in_place() {
        let mut map = VariableMap::default();
        map.insert(V::RemoteAddr, 1);
        map.insert(V::RequestLine, 2);
        map.insert(V::RemoteAddr, 3);
        assert_eq!(map.get(V::RemoteAddr), Some(&3));
        assert_eq!(map.get(V::RequestLine), Some(&2));
        assert_eq!(map.get(V::Xml), None);
    }
}
