//! `fleet calls …`
