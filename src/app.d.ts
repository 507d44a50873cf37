/// <reference types="@webgpu/types" />
declare global {
  namespace App {}
}
export {};
