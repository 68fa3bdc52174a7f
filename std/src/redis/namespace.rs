//! Key names: `{prefix}{identifier}:{digest}`, and the SCAN pattern of exactly those.

use jwm_cache_core::{Digest, PersistentDigest, PersistentHash, UnhashableKey};

/// Hex digits of a 128-bit digest.
pub(crate) const DIGEST_HEX: usize = 32;

/// The names of one cache's keys.
#[derive(Clone, Debug)]
pub(crate) struct Namespace {
    /// `{prefix}{identifier}:`
    head: String,
}

impl Namespace {
    pub(crate) fn new(prefix: &str, identifier: &str) -> Self {
        Namespace {
            head: format!("{prefix}{identifier}:"),
        }
    }

    /// `{prefix}{identifier}:`
    pub(crate) fn head(&self) -> &str {
        &self.head
    }

    /// The Redis key of `key`.
    pub(crate) fn key<K: PersistentHash + ?Sized>(&self, key: &K) -> Result<String, UnhashableKey> {
        Ok(self.key_of(key.persistent_digest()?))
    }

    fn key_of(&self, digest: Digest) -> String {
        let mut name = String::with_capacity(self.head.len() + DIGEST_HEX);
        name.push_str(&self.head);
        let hex = digest.hex();
        match std::str::from_utf8(&hex) {
            Ok(hex) => name.push_str(hex),
            // Never: the digits are ASCII. Char by char costs more, and is as right.
            Err(_) => name.extend(hex.map(char::from)),
        }
        name
    }

    /// A SCAN pattern matching this namespace's keys and nothing else: the head with
    /// every glob character escaped, then exactly one digest's worth of characters, so
    /// that neither `ns2:…` nor `ns:x:…` matches the namespace `ns`.
    pub(crate) fn pattern(&self) -> String {
        let mut pattern = String::with_capacity(self.head.len() * 2 + DIGEST_HEX);
        for c in self.head.chars() {
            if matches!(c, '*' | '?' | '[' | ']' | '\\' | '^' | '-') {
                pattern.push('\\');
            }
            pattern.push(c);
        }
        pattern.extend(std::iter::repeat_n('?', DIGEST_HEX));
        pattern
    }
}

/// The head of the namespace whose key `name` is: all but its digest. For a name made by
/// [`Namespace::key`], its namespace's [`head`](Namespace::head); any other name (too
/// short for a digest) is its own.
pub(crate) fn head_of(name: &str) -> &str {
    name.len()
        .checked_sub(DIGEST_HEX)
        .and_then(|end| name.get(..end))
        .unwrap_or(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Redis's glob matcher (`stringmatchlen`), reduced to what patterns here use:
    /// `?` and backslash escapes.
    fn matches(pattern: &str, name: &str) -> bool {
        let (mut p, mut n) = (pattern.chars().peekable(), name.chars());
        while let Some(c) = p.next() {
            let wanted = match c {
                '?' => {
                    if n.next().is_none() {
                        return false;
                    }
                    continue;
                }
                '\\' => p.next().unwrap_or('\\'),
                c => c,
            };
            if n.next() != Some(wanted) {
                return false;
            }
        }
        n.next().is_none()
    }

    #[test]
    fn a_pattern_matches_its_namespace_only() {
        let names = ["ns", "ns2", "ns:x", "n*", "n?", "[ns]", "a\\b", "", "ns:"];
        for own in names {
            let space = Namespace::new("jwm:", own);
            let key = space.key(&7u64).unwrap();
            assert!(matches(&space.pattern(), &key), "{own} misses its own key");
            assert_eq!(head_of(&key), space.head(), "{own} does not own its key");
            for other in names.iter().filter(|o| **o != own) {
                let theirs = Namespace::new("jwm:", other).key(&7u64).unwrap();
                assert!(
                    !matches(&space.pattern(), &theirs),
                    "{own} matches {other}'s key"
                );
                assert_ne!(head_of(&theirs), space.head(), "{own} owns {other}'s key");
            }
        }
    }
}
