//! NumPy's `.npy` format (versions 1.0 to 3.0; little-endian `f4` and `f2`
//! data, any shape, C or Fortran order) and raw little-endian `.f32` files:
//! just what an element-wise tool needs, read and written here in a few
//! lines rather than through a crate.

use std::fs::File;
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::path::Path;

/// Element types the tool reads and writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `<f4` (and raw `.f32` files).
    F32,
    /// `<f2`.
    F16,
}

impl Kind {
    /// NumPy's `descr` of the type.
    fn descr(self) -> &'static str {
        match self {
            Kind::F32 => "<f4",
            Kind::F16 => "<f2",
        }
    }

    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            Kind::F32 => 4,
            Kind::F16 => 2,
        }
    }
}

/// An array file's header: element type, shape, order, and where its
/// little-endian data starts, checked against the file's length. The data
/// itself is read in windows ([`Header::read_window`]), so that a file of
/// any size is never held whole.
#[derive(Clone, Debug, PartialEq)]
pub struct Header {
    /// Element type.
    pub kind: Kind,
    /// The shape (empty for a scalar).
    pub shape: Vec<usize>,
    /// `fortran_order` of the header (element-wise ops keep it).
    pub fortran_order: bool,
    /// Byte offset of the data in the file.
    pub data_offset: u64,
}

impl Header {
    /// Number of elements.
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    /// Bytes per element.
    pub fn size(&self) -> usize {
        self.kind.size()
    }

    /// Elements `start .. start + len` of the file's data, as little-endian
    /// bytes, read from `file` (opened on the path this header came from).
    pub fn read_window(
        &self,
        file: &mut File,
        start: usize,
        len: usize,
    ) -> Result<Vec<u8>, String> {
        let size = self.size();
        let mut bytes = vec![0u8; len * size];
        file.seek(SeekFrom::Start(self.data_offset + (start * size) as u64))
            .and_then(|_| file.read_exact(&mut bytes))
            .map_err(|e| format!("cannot read the data: {e}"))?;
        Ok(bytes)
    }
}

/// Opens `path` and reads its header: a `.npy` file (by its magic string),
/// or raw f32 for a `.f32` file. Errors say what is wrong and how to fix it.
pub fn open(path: &Path) -> Result<(Header, File), String> {
    let mut file = File::open(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let file_len = file
        .metadata()
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?
        .len();
    if path.extension().is_some_and(|e| e == "f32") {
        if file_len % 4 != 0 {
            return Err(format!(
                "{}: {file_len} bytes is not a whole number of f32 values",
                path.display()
            ));
        }
        let header = Header {
            kind: Kind::F32,
            shape: vec![(file_len / 4) as usize],
            fortran_order: false,
            data_offset: 0,
        };
        return Ok((header, file));
    }
    // The magic, version and header length first, then the header itself.
    let mut prefix = vec![0u8; 12.min(file_len as usize)];
    file.read_exact(&mut prefix)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let header_end = header_end(&prefix).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut head = vec![0u8; header_end.min(file_len as usize)];
    file.seek(SeekFrom::Start(0))
        .and_then(|_| file.read_exact(&mut head))
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let header = parse(&head, file_len).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok((header, file))
}

/// Where a `.npy` header ends (the data's offset), from the file's first
/// 10 to 12 bytes.
fn header_end(data: &[u8]) -> Result<usize, String> {
    const MAGIC: &[u8] = b"\x93NUMPY";
    if data.len() < 10 || !data.starts_with(MAGIC) {
        return Err(
            "not a .npy file (no \\x93NUMPY magic); save it with numpy.save, or give \
                    raw little-endian f32 in a file ending in .f32"
                .into(),
        );
    }
    let major = data[6];
    match major {
        1 => Ok(10 + u16::from_le_bytes([data[8], data[9]]) as usize),
        2 | 3 if data.len() >= 12 => {
            Ok(12 + u32::from_le_bytes([data[8], data[9], data[10], data[11]]) as usize)
        }
        _ => Err(format!(
            ".npy format version {major} is not supported (1 to 3 are)"
        )),
    }
}

/// The header of a `.npy` file whose first bytes are `data` (at least up to
/// the header's end) and whose length is `file_len`.
fn parse(data: &[u8], file_len: u64) -> Result<Header, String> {
    let end = header_end(data)?;
    let start = if data[6] == 1 { 10 } else { 12 };
    let header = data.get(start..end).ok_or("the .npy header is cut short")?;
    let header = std::str::from_utf8(header).map_err(|_| "the .npy header is not text")?;
    let field = |key: &str| -> Result<&str, String> {
        let at = header
            .find(&format!("'{key}'"))
            .ok_or_else(|| format!("the .npy header has no '{key}'"))?;
        let rest = &header[at + key.len() + 2..];
        let colon = rest.find(':').ok_or("a malformed .npy header")?;
        Ok(rest[colon + 1..].trim_start())
    };
    let descr = field("descr")?;
    let descr = descr
        .strip_prefix('\'')
        .and_then(|d| d.split('\'').next())
        .ok_or("a malformed 'descr' in the .npy header")?;
    let kind = match descr {
        "<f4" | "=f4" => Kind::F32,
        "<f2" | "=f2" => Kind::F16,
        other => {
            return Err(format!(
                "dtype {other:?} is not supported: use float32 or float16 \
                 (x.astype(numpy.float32)); bf16 data: pass float32 and --dtype bf16"
            ));
        }
    };
    let fortran_order = field("fortran_order")?.starts_with("True");
    let shape_text = field("shape")?;
    let shape_text = shape_text
        .strip_prefix('(')
        .and_then(|s| s.split(')').next())
        .ok_or("a malformed 'shape' in the .npy header")?;
    let shape = shape_text
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.trim_end_matches('L').parse::<usize>())
        .collect::<Result<Vec<usize>, _>>()
        .map_err(|_| format!("a malformed shape ({shape_text}) in the .npy header"))?;
    let count = shape
        .iter()
        .try_fold(1usize, |n, &d| n.checked_mul(d))
        .ok_or("the shape's element count overflows")?;
    let body = file_len.saturating_sub(end as u64);
    count
        .checked_mul(kind.size())
        .filter(|&b| b as u64 <= body)
        .ok_or_else(|| {
            format!(
                "the data is cut short: the shape {shape:?} needs {count} values of {descr}, \
                 the file holds {body} bytes"
            )
        })?;
    Ok(Header {
        kind,
        shape,
        fortran_order,
        data_offset: end as u64,
    })
}

/// The header bytes of a `.npy` file (version 1.0, as `numpy.save` writes
/// it: padded with spaces to a multiple of 64 bytes) for `kind` data of
/// `shape`; the data follows it.
pub fn npy_header(kind: Kind, shape: &[usize], fortran_order: bool) -> Vec<u8> {
    let shape = match shape {
        [one] => format!("({one},)"),
        dims => format!(
            "({})",
            dims.iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let mut header = format!(
        "{{'descr': '{}', 'fortran_order': {}, 'shape': {shape}, }}",
        kind.descr(),
        if fortran_order { "True" } else { "False" }
    );
    let total = 10 + header.len() + 1;
    header.push_str(&" ".repeat(total.next_multiple_of(64) - total));
    header.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    out
}

/// Creates `path` for `kind` data of `shape`: a `.npy` header, or nothing
/// for a raw `.f32` path (f32 data only); the caller appends the data.
pub fn create(
    path: &Path,
    kind: Kind,
    shape: &[usize],
    fortran_order: bool,
) -> Result<BufWriter<File>, String> {
    let raw = path.extension().is_some_and(|e| e == "f32");
    if raw && kind != Kind::F32 {
        return Err(format!(
            "{}: a .f32 file holds f32 only; write .npy for f16 results",
            path.display()
        ));
    }
    let file = File::create(path).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    let mut out = BufWriter::with_capacity(1 << 20, file);
    if !raw {
        out.write_all(&npy_header(kind, shape, fortran_order))
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    Ok(out)
}
