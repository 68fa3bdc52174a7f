//! Host package for the workspace examples and tests.
