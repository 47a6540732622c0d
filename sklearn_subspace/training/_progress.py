"""A tqdm progress bar over epochs, as a skorch callback."""

from skorch.callbacks import Callback


class EpochProgress(Callback):
    """Show one tqdm bar that advances once per epoch.

    skorch's own ``ProgressBar`` advances per batch and is rebuilt every
    epoch; long fixed-budget trainings (the embedded teacher) read better as
    one bar over the whole run.

    Parameters
    ----------
    desc : str
        Text in front of the bar.
    """

    def __init__(self, desc):
        self.desc = desc

    def on_train_begin(self, net, **kwargs):
        from tqdm.auto import tqdm

        self.bar_ = tqdm(total=net.max_epochs, desc=self.desc, unit="epoch")

    def on_epoch_end(self, net, **kwargs):
        self.bar_.update(1)

    def on_train_end(self, net, **kwargs):
        self.bar_.close()
