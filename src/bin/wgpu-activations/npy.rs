//! NumPy's `.npy` format (versions 1.0 to 3.0; little-endian `f4` and `f2`
//! data, any shape, C or Fortran order) and raw little-endian `.f32` files:
//! just what an element-wise tool needs, read and written here in a few
//! lines rather than through a crate.

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
    fn descr(self) -> &'static str {
        match self {
            Kind::F32 => "<f4",
            Kind::F16 => "<f2",
        }
    }

    fn size(self) -> usize {
        match self {
            Kind::F32 => 4,
            Kind::F16 => 2,
        }
    }
}

/// An array: its element type, shape, order and little-endian bytes.
#[derive(Clone, Debug, PartialEq)]
pub struct Array {
    /// Element type.
    pub kind: Kind,
    /// The shape (empty for a scalar).
    pub shape: Vec<usize>,
    /// `fortran_order` of the header (element-wise ops keep it).
    pub fortran_order: bool,
    /// The data, little-endian.
    pub bytes: Vec<u8>,
}

impl Array {
    /// Number of elements.
    pub fn len(&self) -> usize {
        self.bytes.len() / self.kind.size()
    }
}

/// Reads `path`: a `.npy` file (by its magic string), or raw f32 for a
/// `.f32` file. Errors say what is wrong and how to fix it.
pub fn read(path: &Path) -> Result<Array, String> {
    let data = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    if path.extension().is_some_and(|e| e == "f32") {
        if data.len() % 4 != 0 {
            return Err(format!(
                "{}: {} bytes is not a whole number of f32 values",
                path.display(),
                data.len()
            ));
        }
        return Ok(Array {
            kind: Kind::F32,
            shape: vec![data.len() / 4],
            fortran_order: false,
            bytes: data,
        });
    }
    parse(&data).map_err(|e| format!("{}: {e}", path.display()))
}

fn parse(data: &[u8]) -> Result<Array, String> {
    const MAGIC: &[u8] = b"\x93NUMPY";
    if data.len() < 10 || !data.starts_with(MAGIC) {
        return Err(
            "not a .npy file (no \\x93NUMPY magic); save it with numpy.save, or give \
                    raw little-endian f32 in a file ending in .f32"
                .into(),
        );
    }
    let major = data[6];
    let (header_len, start) = match major {
        1 => (u16::from_le_bytes([data[8], data[9]]) as usize, 10),
        2 | 3 if data.len() >= 12 => (
            u32::from_le_bytes([data[8], data[9], data[10], data[11]]) as usize,
            12,
        ),
        _ => {
            return Err(format!(
                ".npy format version {major} is not supported (1 to 3 are)"
            ));
        }
    };
    let header = data
        .get(start..start + header_len)
        .ok_or("the .npy header is cut short")?;
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
    let body = &data[start + header_len..];
    let bytes = count
        .checked_mul(kind.size())
        .filter(|&b| b <= body.len())
        .ok_or_else(|| {
            format!(
                "the data is cut short: the shape {shape:?} needs {count} values of {descr}, \
                 the file holds {} bytes",
                body.len()
            )
        })?;
    Ok(Array {
        kind,
        shape,
        fortran_order,
        bytes: body[..bytes].to_vec(),
    })
}

/// The bytes of `array` as a `.npy` file (version 1.0, as `numpy.save`
/// writes it: the header padded with spaces to a multiple of 64 bytes).
pub fn to_npy(array: &Array) -> Vec<u8> {
    let shape = match array.shape.as_slice() {
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
        array.kind.descr(),
        if array.fortran_order { "True" } else { "False" }
    );
    let total = 10 + header.len() + 1;
    header.push_str(&" ".repeat(total.next_multiple_of(64) - total));
    header.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(&array.bytes);
    out
}

/// Writes `array` to `path`: `.npy`, or raw bytes for a `.f32` path (f32
/// data only).
pub fn write(path: &Path, array: &Array) -> Result<(), String> {
    let bytes = if path.extension().is_some_and(|e| e == "f32") {
        if array.kind != Kind::F32 {
            return Err(format!(
                "{}: a .f32 file holds f32 only; write .npy for f16 results",
                path.display()
            ));
        }
        array.bytes.clone()
    } else {
        to_npy(array)
    };
    std::fs::write(path, bytes).map_err(|e| format!("cannot write {}: {e}", path.display()))
}
