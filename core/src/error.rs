//! The cache's error: which of its parts failed, with that part's own error.

use core::fmt;

/// A cache operation failed in its backend (`B`) or its codec (`S`).
///
/// Each part keeps its own error type (postcard style), so nothing is lost; where a part
/// cannot fail its error is [`Infallible`](core::convert::Infallible).
///
/// ```
/// use jwm_cache_core::Error;
///
/// let err: Error<&str, core::fmt::Error> = Error::Backend("connection refused");
/// assert_eq!(err.to_string(), "backend error: connection refused");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error<B, S> {
    /// The backend failed to read or write.
    Backend(B),
    /// The codec failed to encode or decode a value.
    Codec(S),
}

impl<B: fmt::Display, S: fmt::Display> fmt::Display for Error<B, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Backend(e) => write!(f, "backend error: {e}"),
            Error::Codec(e) => write!(f, "codec error: {e}"),
        }
    }
}

impl<B, S> core::error::Error for Error<B, S>
where
    B: core::error::Error + 'static,
    S: core::error::Error + 'static,
{
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Error::Backend(e) => Some(e),
            Error::Codec(e) => Some(e),
        }
    }
}
