"""Writes the small ONNX models the tests use to check that non-CRAFT models (or CRAFT-shaped ones whose outputs are
not float32) are refused."""
import onnx
from onnx import helper, TensorProto


def identity(path, shape):
    x = helper.make_tensor_value_info('input', TensorProto.FLOAT, shape)
    y = helper.make_tensor_value_info('y', TensorProto.FLOAT, shape)
    g = helper.make_graph([helper.make_node('Identity', ['input'], ['y'])], 'invalid', [x], [y])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid('', 17)])
    m.ir_version = 8
    onnx.save(m, path)


if __name__ == '__main__':
    identity('test/models/wrong-rank.onnx', [1, 3, 'W'])        # input of rank 3
    identity('test/models/wrong-output.onnx', ['N', 3, 'H', 'W'])  # no [N,H/2,W/2,2] score output


def typed_outputs(path, score_type, refined_type=None):
    """CRAFT's interface ([N,3,H,W] -> [N,H/2,W/2,2] (+ refiner [N,H/2,W/2,1])) with outputs of another element type:
    float16 or uint8 outputs must be refused at load (they used to be read as float32, past the tensor's end)."""
    x = helper.make_tensor_value_info('input', TensorProto.FLOAT, ['N', 3, 'H', 'W'])
    nodes = [
        helper.make_node('AveragePool', ['input'], ['pooled'], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node('Transpose', ['pooled'], ['nhwc'], perm=[0, 2, 3, 1]),
        helper.make_node('Constant', [], ['starts'], value=helper.make_tensor('s', TensorProto.INT64, [1], [0])),
        helper.make_node('Constant', [], ['ends2'], value=helper.make_tensor('e2', TensorProto.INT64, [1], [2])),
        helper.make_node('Constant', [], ['ends1'], value=helper.make_tensor('e1', TensorProto.INT64, [1], [1])),
        helper.make_node('Constant', [], ['axes'], value=helper.make_tensor('a', TensorProto.INT64, [1], [3])),
        helper.make_node('Slice', ['nhwc', 'starts', 'ends2', 'axes'], ['scores']),
        helper.make_node('Cast', ['scores'], ['y'], to=score_type),
    ]
    outputs = [helper.make_tensor_value_info('y', score_type, ['N', 'h', 'w', 2])]
    if refined_type is not None:
        nodes += [helper.make_node('Slice', ['nhwc', 'starts', 'ends1', 'axes'], ['link']),
                  helper.make_node('Cast', ['link'], ['y_refiner'], to=refined_type)]
        outputs.append(helper.make_tensor_value_info('y_refiner', refined_type, ['N', 'h', 'w', 1]))
    g = helper.make_graph(nodes, 'typed_outputs', [x], outputs)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid('', 17)])
    m.ir_version = 8
    onnx.checker.check_model(m)
    onnx.save(m, path)


if __name__ == '__main__':
    typed_outputs('test/models/float32-outputs.onnx', TensorProto.FLOAT, TensorProto.FLOAT)    # control: loads
    typed_outputs('test/models/float16-scores.onnx', TensorProto.FLOAT16)
    typed_outputs('test/models/uint8-scores.onnx', TensorProto.UINT8)
    typed_outputs('test/models/float16-refiner.onnx', TensorProto.FLOAT, TensorProto.FLOAT16)
