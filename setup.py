"""Installs image_example_gen: a TFX ExampleGen that ingests folders of images.

TFX 1.16 declares `Requires-Python <3.11` although all its compiled dependencies
ship Python 3.11 wheels, so install with `--ignore-requires-python`, pinned by
constraints.txt (see README.md):

    pip install --ignore-requires-python -c constraints.txt -e '.[test]'
"""

import setuptools

setuptools.setup(
    name='image_example_gen',
    version='0.1.0',
    description='TFX ExampleGen that turns image folders into tf.train.Examples.',
    long_description=open('README.md', encoding='utf-8').read(),
    long_description_content_type='text/markdown',
    packages=setuptools.find_packages(include=['image_example_gen', 'image_example_gen.*']),
    python_requires='>=3.9',
    install_requires=[
        'tfx>=1.16,<1.17',
        'tensorflow>=2.16,<2.17',
        'apache-beam>=2.61,<3',
        'Pillow>=11.1',
        'pillow-heif>=1.8',
        'simplejpeg>=1.8',
        'matplotlib>=3.7',
        'tqdm>=4',
        'isal>=1.6',
        'google-crc32c>=1.5',
        'protobuf>=4.25,<5',
    ],
    extras_require={
        'test': ['pytest>=8', 'psutil>=5'],
    },
    entry_points={
        'console_scripts': [
            'image-example-gen = image_example_gen.cli:main',
        ],
    },
)
