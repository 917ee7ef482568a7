//! Compile tests for the weft macros.
