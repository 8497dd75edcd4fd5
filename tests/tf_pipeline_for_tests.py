"""A pipeline module that imports TensorFlow at its top, as training code does."""

import tensorflow as tf


def tf_unit(data: bytes):  # noqa: ANN201 (returns a tf.Tensor on purpose)
    image = tf.io.decode_image(data, channels=3, expand_animations=False)
    return tf.cast(image, tf.float32) / 255.0
