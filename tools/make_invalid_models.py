"""Writes the two small non-CRAFT ONNX models the tests use to check that such models are refused."""
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
