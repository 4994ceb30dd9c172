// The smallest useful ONNX model, y = Identity(x) on a float[1] tensor, encoded by hand (protobuf)
// so the inference worker can initialise onnxruntime-web's WebAssembly runtime while the real
// models are still downloading. It contains no weights and is never used for inference.

/** @param {number} value non-negative, < 2^31 */
const varint = (value) => {
  /** @type {number[]} */
  const out = [];
  for (; value > 0x7f; value >>>= 7) out.push((value & 0x7f) | 0x80);
  out.push(value);
  return out;
};
/** @param {string} text */
const utf8 = (text) => [...new TextEncoder().encode(text)];
/** A length-delimited field (wire type 2). @param {number} number @param {number[]} bytes */
const field = (number, bytes) => [...varint((number << 3) | 2), ...varint(bytes.length), ...bytes];
/** A varint field (wire type 0). @param {number} number @param {number} value */
const int = (number, value) => [...varint(number << 3), ...varint(value)];

const FLOAT = 1; // TensorProto.DataType.FLOAT
/** ValueInfoProto {name, type: TypeProto {tensor_type {elem_type: FLOAT, shape {dim {dim_value: 1}}}}} */
const floatTensor = (/** @type {string} */ name) => {
  const shape = field(2, field(1, int(1, 1)));
  return [...field(1, utf8(name)), ...field(2, field(1, [...int(1, FLOAT), ...shape]))];
};

/** @returns {Uint8Array} ModelProto: IR version 7, opset 13, graph Identity(x) → y */
export function warmupModel() {
  const node = [...field(1, utf8("x")), ...field(2, utf8("y")), ...field(4, utf8("Identity"))];
  const graph = [...field(1, node), ...field(2, utf8("warmup")), ...field(11, floatTensor("x")), ...field(12, floatTensor("y"))];
  const opset = [...field(1, []), ...int(2, 13)];
  return Uint8Array.from([...int(1, 7), ...field(7, graph), ...field(8, opset)]);
}
