"""side_file.LoadedFile: a file loaded once per path, and let go on release."""

from image_example_gen.beam import side_file


def test_loaded_file_loads_once_per_path_and_again_after_release():
  loads = []

  def load(path):
    loads.append(path)
    return f'contents of {path}'

  loaded = side_file.LoadedFile(load)
  assert loaded.get('a') == 'contents of a'
  assert loaded.get('a') == 'contents of a'
  assert loads == ['a']
  assert loaded.get('b') == 'contents of b'
  assert loads == ['a', 'b']
  loaded.release()
  assert loaded.get('b') == 'contents of b'
  assert loads == ['a', 'b', 'b']
