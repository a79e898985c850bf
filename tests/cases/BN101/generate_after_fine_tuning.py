# Fine-tuning an OCR encoder-decoder, then decoding the eval set with `model.generate(...)`:
# generate() runs the forward pass once per token, so a model left in train() mode decodes
# with Dropout on and batch statistics in its BatchNorm layers.
import torch
from transformers import VisionEncoderDecoderModel


def character_error_rate(predictions, references):
    wrong = sum(p != r for p, r in zip(predictions, references, strict=False))
    return wrong / max(len(references), 1)


def fine_tune(train_dataloader, eval_dataloader, processor, epochs=3):
    model = VisionEncoderDecoderModel.from_pretrained("ocr-base-printed")
    optimizer = torch.optim.AdamW(model.parameters(), lr=5e-5)
    for epoch in range(epochs):
        model.train()
        for batch in train_dataloader:
            outputs = model(pixel_values=batch["pixel_values"], labels=batch["labels"])
            outputs.loss.backward()
            optimizer.step()
            optimizer.zero_grad()

        valid_cer = 0.0
        with torch.no_grad():
            for batch in eval_dataloader:
                ids = model.generate(batch["pixel_values"], max_new_tokens=64)  # expect: BN101
                texts = processor.batch_decode(ids, skip_special_tokens=True)
                valid_cer += character_error_rate(texts, batch["text"])
        print(epoch, valid_cer / max(len(eval_dataloader), 1))


def fine_tune_and_switch(train_dataloader, eval_dataloader, processor, epochs=3):
    model = VisionEncoderDecoderModel.from_pretrained("ocr-base-printed")
    optimizer = torch.optim.AdamW(model.parameters(), lr=5e-5)
    for epoch in range(epochs):
        model.train()
        for batch in train_dataloader:
            outputs = model(pixel_values=batch["pixel_values"], labels=batch["labels"])
            outputs.loss.backward()
            optimizer.step()
            optimizer.zero_grad()

        model.eval()
        with torch.no_grad():
            for batch in eval_dataloader:
                ids = model.generate(batch["pixel_values"], max_new_tokens=64)
                print(epoch, processor.batch_decode(ids, skip_special_tokens=True))


def transcribe(image_batch, processor):
    # from_pretrained() returns the model in eval mode: nothing to switch.
    model = VisionEncoderDecoderModel.from_pretrained("ocr-base-printed")
    with torch.no_grad():
        return processor.batch_decode(model.generate(image_batch), skip_special_tokens=True)
