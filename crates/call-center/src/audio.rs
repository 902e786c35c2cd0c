//! What a recording is: the format its suffix claims (checked case-insensitively, since S3 suffix
//! filters are case-sensitive and `.MP3` would slip past them) and whether its first bytes look
//! like that format. The starter reads only the first [`SNIFF_BYTES`] with a ranged GET.

/// How much of the object the starter reads to recognise it.
pub const SNIFF_BYTES: u64 = 4096;
/// Transcribe's limit for a batch file.
pub const MAX_MEDIA_BYTES: u64 = 2 * 1024 * 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AudioFormat {
    Mp3,
    Wav,
    Flac,
    Ogg,
    M4a,
    Mp4,
}

impl AudioFormat {
    pub const ALL: [AudioFormat; 6] = [
        Self::Mp3,
        Self::Wav,
        Self::Flac,
        Self::Ogg,
        Self::M4a,
        Self::Mp4,
    ];

    /// Transcribe's `MediaFormat`.
    pub const fn media_format(self) -> &'static str {
        match self {
            Self::Mp3 => "mp3",
            Self::Wav => "wav",
            Self::Flac => "flac",
            Self::Ogg => "ogg",
            Self::M4a => "m4a",
            Self::Mp4 => "mp4",
        }
    }

    /// The format a key's suffix names, any case (`.MP3`, `.Wav`).
    pub fn from_key(key: &str) -> Option<AudioFormat> {
        let file = key.rsplit('/').next().unwrap_or(key);
        let (_, suffix) = file.rsplit_once('.')?;
        Self::ALL
            .into_iter()
            .find(|f| f.media_format().eq_ignore_ascii_case(suffix))
    }

    /// Do the first bytes look like this format?
    pub fn matches(self, head: &[u8]) -> bool {
        match self {
            Self::Mp3 => head.starts_with(b"ID3") || mpeg_audio_frame(head),
            Self::Wav => head.len() >= 12 && &head[..4] == b"RIFF" && &head[8..12] == b"WAVE",
            Self::Flac => head.starts_with(b"fLaC"),
            Self::Ogg => head.starts_with(b"OggS"),
            // ISO base media: a box whose type is `ftyp` at offset 4 (m4a and mp4 alike).
            Self::M4a | Self::Mp4 => head.len() >= 8 && &head[4..8] == b"ftyp",
        }
    }
}

/// An MPEG audio frame header at the start: 11 sync bits, a valid version and layer, a bitrate
/// index that is neither "free" nor "bad", and a valid sample-rate index.
fn mpeg_audio_frame(head: &[u8]) -> bool {
    let [a, b, c, ..] = head else {
        return false;
    };
    let sync = *a == 0xFF && b & 0xE0 == 0xE0;
    let version_ok = (b >> 3) & 0b11 != 0b01;
    let layer_ok = (b >> 1) & 0b11 != 0b00;
    let bitrate = c >> 4;
    let rate = (c >> 2) & 0b11;
    sync && version_ok && layer_ok && bitrate != 0 && bitrate != 0b1111 && rate != 0b11
}

/// What the first bytes look like, for a rejection message.
pub fn describe(head: &[u8]) -> &'static str {
    if head.is_empty() {
        return "nothing";
    }
    if let Some(f) = AudioFormat::ALL.into_iter().find(|f| f.matches(head)) {
        return match f {
            AudioFormat::M4a | AudioFormat::Mp4 => "m4a/mp4 audio",
            other => other.media_format(),
        };
    }
    let printable = head
        .iter()
        .filter(|b| b.is_ascii_graphic() || b.is_ascii_whitespace())
        .count();
    if printable * 10 >= head.len() * 9 || std::str::from_utf8(head).is_ok() {
        "text"
    } else {
        "unrecognised binary data"
    }
}

/// Why a recording gets no job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unfit {
    Suffix(String),
    Empty,
    TooLarge(u64),
    Content {
        claimed: AudioFormat,
        looks_like: &'static str,
    },
}

impl std::fmt::Display for Unfit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unfit::Suffix(key) => write!(
                f,
                "{key:?} does not end in a supported audio suffix (mp3, wav, flac, ogg, m4a, mp4)"
            ),
            Unfit::Empty => f.write_str("the object is empty"),
            Unfit::TooLarge(size) => write!(
                f,
                "the object is {size} bytes, over Transcribe's limit of {MAX_MEDIA_BYTES}"
            ),
            Unfit::Content {
                claimed,
                looks_like,
            } => write!(
                f,
                "the name says {} but the content looks like {looks_like}",
                claimed.media_format()
            ),
        }
    }
}

/// The whole check on the first bytes of an object of `size` bytes named `key`.
pub fn check(key: &str, size: u64, head: &[u8]) -> Result<AudioFormat, Unfit> {
    let format = AudioFormat::from_key(key).ok_or_else(|| Unfit::Suffix(key.to_owned()))?;
    check_size(size)?;
    if format.matches(head) {
        Ok(format)
    } else {
        Err(Unfit::Content {
            claimed: format,
            looks_like: describe(head),
        })
    }
}

/// Size limits alone (before the ranged read).
pub fn check_size(size: u64) -> Result<(), Unfit> {
    match size {
        0 => Err(Unfit::Empty),
        s if s > MAX_MEDIA_BYTES => Err(Unfit::TooLarge(s)),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suffixes_any_case() {
        assert_eq!(
            AudioFormat::from_key("recordings/a.MP3"),
            Some(AudioFormat::Mp3)
        );
        assert_eq!(
            AudioFormat::from_key("recordings/a.Wav"),
            Some(AudioFormat::Wav)
        );
        assert_eq!(
            AudioFormat::from_key("recordings/a.m4a"),
            Some(AudioFormat::M4a)
        );
        assert_eq!(AudioFormat::from_key("recordings/a.mp3.txt"), None);
        assert_eq!(AudioFormat::from_key("recordings/mp3"), None);
        assert_eq!(AudioFormat::from_key("recordings.mp3/file"), None);
    }

    #[test]
    fn magic_numbers() {
        assert!(AudioFormat::Mp3.matches(b"ID3\x04\x00\x00\x00\x00\x00\x00"));
        // MPEG-1 layer III, 128 kbit/s, 44.1 kHz.
        assert!(AudioFormat::Mp3.matches(&[0xFF, 0xFB, 0x90, 0x64]));
        // MPEG-2 layer III, 24 kHz (what lame writes for 22.05/24 kHz input).
        assert!(AudioFormat::Mp3.matches(&[0xFF, 0xF3, 0x64, 0xC4]));
        assert!(
            !AudioFormat::Mp3.matches(&[0xFF, 0xFB, 0xF0, 0x64]),
            "bad bitrate"
        );
        assert!(
            !AudioFormat::Mp3.matches(&[0xFF, 0xF9, 0x90, 0x64]),
            "layer 0 is reserved"
        );
        assert!(!AudioFormat::Mp3.matches(b"Hello, this is text"));
        assert!(AudioFormat::Wav.matches(b"RIFF\x24\x08\x00\x00WAVEfmt "));
        assert!(!AudioFormat::Wav.matches(b"RIFF\x24\x08\x00\x00AVI LIST"));
        assert!(AudioFormat::Flac.matches(b"fLaC\x00\x00\x00\x22"));
        assert!(AudioFormat::Ogg.matches(b"OggS\x00\x02"));
        assert!(AudioFormat::M4a.matches(b"\x00\x00\x00\x20ftypM4A "));
        assert!(AudioFormat::Mp4.matches(b"\x00\x00\x00\x18ftypmp42"));
    }

    #[test]
    fn checks_and_reasons() {
        assert_eq!(check("r/a.mp3", 10, b"ID3\x04"), Ok(AudioFormat::Mp3));
        assert_eq!(check("r/a.mp3", 0, b""), Err(Unfit::Empty));
        assert_eq!(
            check("r/a.mp3", MAX_MEDIA_BYTES + 1, b"ID3"),
            Err(Unfit::TooLarge(MAX_MEDIA_BYTES + 1))
        );
        let text = check("r/a.mp3", 20, b"Hello, this is text\n").unwrap_err();
        assert_eq!(
            text.to_string(),
            "the name says mp3 but the content looks like text"
        );
        let wav_as_mp3 = check("r/a.mp3", 20, b"RIFF\x24\x08\x00\x00WAVEfmt ").unwrap_err();
        assert_eq!(
            wav_as_mp3.to_string(),
            "the name says mp3 but the content looks like wav"
        );
        assert!(matches!(
            check("r/a.txt", 5, b"hello"),
            Err(Unfit::Suffix(_))
        ));
    }
}
