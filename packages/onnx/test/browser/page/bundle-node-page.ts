// A page that wrongly imports the Node entry: the bundler checks must refuse it.
import { createVerifiedSession } from '@model-signing/onnx';

Object.assign(globalThis, { app: { createVerifiedSession } });
