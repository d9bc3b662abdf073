//! Documents duban writes in the official layout (公文格式, GB/T 9704): the
//! supervision notice (督办单) now, bulletins later. Each is built from the
//! API's own DTOs, so that the document says what the API says.

pub mod bulletin;
pub mod chart;
pub mod docx;
pub mod notice;
pub mod pdf;

pub use docx::CONTENT_TYPE as DOCX;
