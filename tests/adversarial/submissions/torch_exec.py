"""Hides the import in a string run by exec (the word "torch" is even split in two).

exercise: exercise1
statuses: error
passes: none
"""
namespace = {}
exec("import " + "tor" + "ch as t", namespace)
torch = namespace["t"]


def conv2d(x, weight, bias=None, stride=1, padding=0):
    t = torch.nn.functional.conv2d(torch.from_numpy(x)[None], torch.from_numpy(weight),
                                   None if bias is None else torch.from_numpy(bias), stride=stride, padding=padding)
    return t[0].numpy()
