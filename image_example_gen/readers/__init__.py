"""TensorFlow readers of the Examples ImageExampleGen writes.

  decode   decode_and_resize: the one decode of an image, for training and
           serving alike
  dataset  image_dataset / read_class_names: tf.data batches of images

May import: core and TensorFlow. Never Beam or TFX.
"""
