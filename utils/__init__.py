"""GANs for Medicine: shared plumbing for the course notebooks.

Importing the package sets torch's CPU threads to the CPUs this process may really use
(``runtime.configure_threads``): too many threads is the commonest way a CPU course runs
many times slower than it should.
"""
from utils.runtime import configure_threads

configure_threads()
