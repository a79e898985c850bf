import numpy as np
import torch
from keras import layers, models, ops


class RepeatModel(models.Model):
    def call(self, x):
        return ops.repeat(x, 2, axis=1)


class Normalized(models.Model):
    def __init__(self):
        super().__init__()
        self.bn = layers.BatchNormalization()

    def call(self, x):
        return self.bn(x)


def verify_export_and_inference(model, ref_input, filepath):
    # Keras layers take `training=` per call; there is no train/eval mode to forget.
    ref_output = model(ref_input)
    model.export(filepath, format="torch")
    loaded = torch.export.load(filepath).module()
    with torch.no_grad():
        return ref_output, loaded(torch.as_tensor(ref_input))


def test_export_with_repeat_op(tmp_path):
    model = RepeatModel()
    ref_input = np.random.normal(size=(1, 3)).astype("float32")
    model(ref_input)
    verify_export_and_inference(model, ref_input, tmp_path / "model.pt2")


def test_export_with_batch_norm(tmp_path):
    model = Normalized()
    verify_export_and_inference(model, np.ones((2, 4), "float32"), tmp_path / "model.pt2")
